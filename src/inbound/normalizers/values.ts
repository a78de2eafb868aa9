import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { JsonRecord, NormalizedAlert } from './types';
import { truncateText } from '../../http/text';

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A record's child record, or undefined: vendor payloads are untrusted, so every hop is checked. */
export function record(value: unknown, key: string): JsonRecord | undefined {
  if (!isRecord(value)) return undefined;
  const child = value[key];
  return isRecord(child) ? child : undefined;
}

/** Trimmed non-empty text; finite numbers become text too, because vendors send ids and levels either way. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function firstText(...values: unknown[]): string | undefined {
  for (const value of values) {
    const found = text(value);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Splunk sends multivalue fields as arrays; the first usable value stands for the field. */
export function firstOf(value: unknown): string | undefined {
  return Array.isArray(value) ? firstText(...value) : text(value);
}

/**
 * Keys whose values are credentials (PagerDuty's routing_key is one). They are never copied into an alert,
 * scanned for indicators (a 32-hex routing key would pass for an MD5) or fed into a derived id.
 */
const SECRET_KEY = /^(routing_key|service_key|integration_key|api_?key|token|access_token|secret|password|authorization)$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (!isRecord(value)) return value;
  // fromEntries defines own properties: a `__proto__` key stays data (and part of the id), never a prototype.
  return Object.fromEntries(Object.entries(value).flatMap(([key, child]) => (isSecretKey(key) ? [] : [[key, withoutSecrets(child)]])));
}

/**
 * Deterministic id for items that carry none, so a retried delivery dedups onto the same incident:
 * SHA-256 of the RFC 8785 canonical JSON, which ignores key order and whitespace.
 */
export function derivedId(value: unknown): string {
  const canonical = canonicalize(withoutSecrets(value)) ?? 'null';
  return `sha256:${createHash('sha256').update(canonical, 'utf8').digest('hex')}`;
}

const MAX_TITLE = 256;

/** Titles are for people and list views; a whole log line as a title helps nobody, so long ones are cut. */
export function title(value: string): string {
  const oneLine = value.replace(/\s+/g, ' ').trim();
  return truncateText(oneLine, MAX_TITLE);
}

export type AlertInput = Omit<NormalizedAlert, 'host' | 'user'> & { host?: string | undefined; user?: string | undefined };

/** Optional fields are left out rather than set to undefined, so the stored JSON and its hash stay stable. */
export function buildAlert(input: AlertInput): NormalizedAlert {
  const { host, user, ...rest } = input;
  const alert: NormalizedAlert = { ...rest };
  if (host !== undefined) alert.host = host;
  if (user !== undefined) alert.user = user;
  return alert;
}
