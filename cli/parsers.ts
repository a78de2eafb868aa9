import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { CliError, EXIT } from './exit-codes';

/** Option parsers: a bad value is a usage error (exit 2) naming the option, before any request. */

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;

export function parseBoolean(value: string): boolean {
  if (/^(true|yes|1|on)$/i.test(value)) return true;
  if (/^(false|no|0|off)$/i.test(value)) return false;
  throw new InvalidArgumentError('expected true or false');
}

/**
 * `critical=critical,4=high` → { critical: 'critical', '4': 'high' }. Built with fromEntries, so a vendor value
 * such as `__proto__` becomes a key of the mapping (which the API then refuses, saying why) instead of vanishing.
 */
export function parseSeverityMapping(value: string): Record<string, string> {
  const pairs = value
    .split(',')
    .filter(Boolean)
    .map((pair) => {
      const [vendor, severity] = pair.split('=').map((s) => s.trim());
      if (!vendor || !severity || !(SEVERITIES as readonly string[]).includes(severity)) {
        throw new InvalidArgumentError(`expected vendor=severity pairs, severity one of ${SEVERITIES.join(', ')}`);
      }
      return [vendor, severity] as const;
    });
  return Object.fromEntries(pairs);
}

/** `90`, `90s`, `15m`, `24h`, `7d` → seconds */
export function parseDuration(value: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('expected a duration such as 3600, 90s, 15m, 24h or 7d');
  return Number(match[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
}

export function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/** `a,b , c` → ['a', 'b', 'c'] */
export function parseList(value: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError('expected a comma-separated list');
  return items;
}

/** Repeatable `--header 'Name: value'` → { Name: 'value' } */
export function collectHeader(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const colon = value.indexOf(':');
  const name = value.slice(0, colon).trim();
  if (colon < 1 || !name) throw new InvalidArgumentError("expected 'Name: value'");
  return Object.fromEntries([...Object.entries(previous), [name, value.slice(colon + 1).trim()]]);
}

/** An instant as the API takes it: unix seconds or ISO 8601, checked here so a typo is a usage error. */
export function parseInstant(value: string): string {
  if (/^\d+$/.test(value) || !Number.isNaN(Date.parse(value))) return value;
  throw new InvalidArgumentError('expected unix seconds or an ISO 8601 time such as 2026-01-01T00:00:00Z');
}

export function oneOf(values: readonly string[]): (value: string) => string {
  return (value) => {
    if (!values.includes(value)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}`);
    return value;
  };
}

/** A JSON argument: inline JSON, `@file` or `-` (standard input). */
export function readJson(argument: string, what: string): unknown {
  let text: string;
  try {
    text = argument === '-' ? readFileSync(0, 'utf8') : argument.startsWith('@') ? readFileSync(argument.slice(1), 'utf8') : argument;
  } catch (error) {
    throw new CliError(`Cannot read ${what} from ${argument}: ${(error as Error).message}`, EXIT.usage);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError(`${what} is not JSON: ${(error as Error).message}`, EXIT.usage, { hint: "Pass JSON inline ('{\"key\":\"value\"}'), as @file.json, or - for standard input." });
  }
}
