import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Inbound webhook authentication (the seed's contract): `X-Webhook-Signature: sha256=<hex>` where hex is
 * HMAC-SHA256(secret, "<X-Webhook-Timestamp>.<raw body>"), and the timestamp is Unix seconds within five
 * minutes of the server's clock in either direction. Pure functions: the receiver supplies the clock.
 */

export const TIMESTAMP_TOLERANCE_SECONDS = 300;

/**
 * `sha256=<64 hex>`, and the same digest as openssl prints it, because the seed's own shell snippet pipes
 * `openssl dgst -sha256 -hmac` straight into the header: OpenSSL 3 writes `SHA2-256(stdin)= <hex>`, 1.1
 * writes `(stdin)= <hex>`, and `-r` writes `<hex> *stdin`. Hex of either case.
 */
const SIGNATURE_HEADER = /^sha256=(?:[A-Za-z0-9-]*\(stdin\)= ?)?([0-9a-fA-F]{64})(?: \*stdin)?$/;

/** The 32 digest bytes a header carries, or null when it is missing or not one of the accepted spellings. */
export function parseSignatureHeader(header: string | undefined): Buffer | null {
  const match = header === undefined ? null : SIGNATURE_HEADER.exec(header.trim());
  return match ? Buffer.from(match[1], 'hex') : null;
}

export function computeSignature(secret: string, timestamp: string, body: Buffer): Buffer {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${timestamp}.`, 'utf8').update(body).digest();
}

export function signatureHeader(secret: string, timestamp: string, body: Buffer): string {
  return `sha256=${computeSignature(secret, timestamp, body).toString('hex')}`;
}

/**
 * True when `digest` is the HMAC of the request under any of the secrets. Every secret is compared, in
 * constant time, so neither the result's timing nor the number of secrets tried reveals which one matched.
 */
export function verifySignature(secrets: readonly string[], timestamp: string, body: Buffer, digest: Buffer): boolean {
  let matched = false;
  for (const secret of secrets) {
    if (timingSafeEqual(computeSignature(secret, timestamp, body), digest)) matched = true;
  }
  return matched;
}

export type TimestampVerdict = 'ok' | 'missing' | 'too_old' | 'too_new';

/** Digits only (no sign, no fraction, no exponent), so one timestamp has exactly one spelling to sign. */
const TIMESTAMP = /^\d{1,15}$/;

export function checkTimestamp(header: string | undefined, nowMs: number): TimestampVerdict {
  if (header === undefined || !TIMESTAMP.test(header)) return 'missing';
  const skew = Number(header) - Math.floor(nowMs / 1000);
  if (skew < -TIMESTAMP_TOLERANCE_SECONDS) return 'too_old';
  if (skew > TIMESTAMP_TOLERANCE_SECONDS) return 'too_new';
  return 'ok';
}
