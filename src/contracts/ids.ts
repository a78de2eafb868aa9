import { createHash } from 'node:crypto';
import { v5, validate } from 'uuid';

/**
 * Towline's one id module. Every id a retry, a replay or a second instance must find again is derived from its
 * inputs, never drawn at random, so recording it twice is recognised instead of duplicated. Two derivations
 * exist, and both keep their values forever (stored streams and dedup keys depend on them):
 *
 * - `nameBasedUuid` — RFC 9562 version 5 (SHA-1 of a namespace and a name), through the maintained `uuid`
 *   package, for ids anyone outside Towline can recompute from a published rule (delivery ids).
 * - `deterministicUuid` — RFC 9562 version 8 (the "custom" layout) over SHA-256 of length-prefixed parts, for
 *   internal ids keyed by several values (incident streams, triage steps, SLA breaches, claims).
 *
 * Random ids (new organisations, keys, events without a natural key) are `randomUUID()` from node:crypto.
 */

/** uuid v5 of `name` in `namespace` (itself a uuid). */
export const nameBasedUuid = (namespace: string, name: string): string => v5(name, namespace);

/** uuid v8 from SHA-256 of the parts; length-prefixed, so ('ab', 'c') and ('a', 'bc') cannot collide. */
export function deterministicUuid(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${Buffer.byteLength(part, 'utf8')}:${part}`, 'utf8');
  const bytes = hash.digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A uuid in the lower-case spelling the store writes (the uuid package accepts upper case too). */
export const isUuid = (value: string): boolean => validate(value) && value === value.toLowerCase();
