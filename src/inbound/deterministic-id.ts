import { createHash } from 'node:crypto';

/**
 * A uuid (RFC 9562 version 8, the "custom" layout) derived from SHA-256 of the parts, for ids that a retry
 * must find again: the same inputs always name the same stream, so a repeated request or a re-run of
 * queued work lands on what the first attempt wrote instead of creating a twin.
 */
export function deterministicUuid(...parts: string[]): string {
  const hash = createHash('sha256');
  // Length-prefixed, so ('ab', 'c') and ('a', 'bc') cannot collide.
  for (const part of parts) hash.update(`${Buffer.byteLength(part, 'utf8')}:${part}`, 'utf8');
  const bytes = hash.digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
