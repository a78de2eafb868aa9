import { AppError } from './app-error';
import { loneSurrogatePath } from './text';

export const MAX_JSON_DEPTH = 64;

/**
 * Parses a JSON request body, refusing what must never reach a handler: nesting deeper than MAX_JSON_DEPTH
 * (checked on the raw bytes first, so a hostile body cannot exhaust the parser's stack) and `__proto__` keys
 * (harmless as JSON.parse creates them, dangerous once some code merges the object), and lone surrogates
 * (`"\ud800"`: valid JSON, but not text; the event hash's canonicaliser throws on it, so it would be a 500
 * after part of the work was done — refused here, before anything is stored).
 * `code` is the error code to answer with: routes that own their payload name it after their contract.
 */
export function parseJsonBody(raw: Buffer, code = 'invalid_request'): unknown {
  const depth = maxNestingDepth(raw);
  if (depth > MAX_JSON_DEPTH) {
    throw new AppError(400, code, `JSON nesting deeper than ${MAX_JSON_DEPTH} levels is not accepted`);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new AppError(400, code, `Body is not valid JSON: ${(error as Error).message}`);
  }
  if (hasProtoKey(value)) throw new AppError(400, code, 'JSON keys named __proto__ are not accepted');
  const surrogate = loneSurrogatePath(value);
  if (surrogate !== undefined) {
    throw new AppError(400, code, `Text must be valid Unicode: unpaired surrogate (\\ud800-\\udfff escape) at ${surrogate}`);
  }
  return value;
}

/** Deepest [ / { nesting outside strings. Linear, allocation-free. */
export function maxNestingDepth(raw: Buffer): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i];
    if (inString) {
      if (byte === 0x5c) i++; // backslash: skip the escaped byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x7b || byte === 0x5b) {
      depth++;
      if (depth > max) max = depth;
    } else if (byte === 0x7d || byte === 0x5d) depth--;
  }
  return max;
}

function hasProtoKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(hasProtoKey);
  for (const key of Object.keys(value)) {
    if (key === '__proto__') return true;
    if (hasProtoKey((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}
