import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

/**
 * A webhook secret is a Standard Webhooks secret (`whsec_` + base64 of 24–64 random bytes; generated ones
 * always are) or any shared string of 16 to 512 characters — the seed's receivers are configured with a
 * plain shared string. Both signatures come from the one secret:
 * - the seed's `sha256=<hex HMAC-SHA256>` over the raw body, keyed by the UTF-8 bytes of the whole secret
 *   string (prefix included), so the seed's Python verify() works unchanged;
 * - Standard Webhooks' `v1,<base64 HMAC-SHA256>` over `<webhook-id>.<webhook-timestamp>.<body>`, keyed by the
 *   base64-decoded bytes after `whsec_` — or, for a plain shared string, by its UTF-8 bytes (a
 *   standardwebhooks library takes it as raw key bytes: `new Webhook(Buffer.from(secret), { format: 'raw' })`).
 */
export const SECRET_PREFIX = 'whsec_';
const SECRET_FORMAT = /^whsec_(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const SECRET_MIN_BYTES = 24;
export const SECRET_MAX_BYTES = 64;
export const SHARED_SECRET_MIN_LENGTH = 16;
export const SHARED_SECRET_MAX_LENGTH = 512;
/** Printable, no control characters, no surrounding spaces (they would be lost in a receiver's config file). */
const SHARED_SECRET = /^[^\s\p{Cc}](?:[^\p{Cc}]*[^\s\p{Cc}])?$/u;

export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

const isStandardSecret = (value: string): boolean => {
  if (!SECRET_FORMAT.test(value)) return false;
  const bytes = Buffer.from(value.slice(SECRET_PREFIX.length), 'base64').length;
  return bytes >= SECRET_MIN_BYTES && bytes <= SECRET_MAX_BYTES;
};

/** A `whsec_…` value must be a valid Standard Webhooks secret; anything else is a shared string of 16–512 characters. */
export function isWebhookSecret(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  if (value.startsWith(SECRET_PREFIX)) return isStandardSecret(value);
  return [...value].length >= SHARED_SECRET_MIN_LENGTH && [...value].length <= SHARED_SECRET_MAX_LENGTH && SHARED_SECRET.test(value);
}

/**
 * One secret, ready to sign with: the key of each scheme as a KeyObject. Measured on Node 24 (bench/
 * outbound.bench.ts profile): an HMAC keyed by a Buffer costs ~18 µs, because the Buffer is turned into a key
 * object on every call, against ~3 µs with a KeyObject made once; a delivery signs twice per live secret.
 */
export interface SigningKey {
  /** The UTF-8 bytes of the whole secret string (the seed's scheme). */
  towline: KeyObject;
  /** The base64-decoded bytes after `whsec_`, or a shared string's UTF-8 bytes (Standard Webhooks). */
  standard: KeyObject;
}

export function signingKey(secret: string): SigningKey {
  const utf8 = Buffer.from(secret, 'utf8');
  return {
    towline: createSecretKey(utf8),
    standard: createSecretKey(isStandardSecret(secret) ? Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64') : utf8),
  };
}

const keyOf = (secret: string | SigningKey): SigningKey => (typeof secret === 'string' ? signingKey(secret) : secret);

/** `sha256=<hex>`: the seed's scheme. */
export function towlineSignature(secret: string | SigningKey, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', keyOf(secret).towline).update(body).digest('hex')}`;
}

/** `v1,<base64>`: Standard Webhooks' scheme. */
export function standardWebhooksSignature(secret: string | SigningKey, messageId: string, timestamp: number, body: Buffer | string): string {
  const mac = createHmac('sha256', keyOf(secret).standard).update(`${messageId}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

export interface SignatureInput {
  /** The delivery id: the same on every attempt of one delivery, so receivers can deduplicate. */
  deliveryId: string;
  eventType: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
  body: Buffer;
  /** The live secrets (or their keys), newest first (more than one only during a rotation's grace period). */
  secrets: readonly (string | SigningKey)[];
  /** TW_SIGNATURE_HEADER. */
  signatureHeader: string;
}

/**
 * The headers that identify and sign one attempt. During a rotation, `webhook-signature` carries one
 * signature per live secret (space-separated, as Standard Webhooks specifies), so a receiver holding either
 * secret verifies. The `sha256=` header can carry only one value that the seed's verify() accepts, so it is
 * signed with the **oldest** live secret — the one every receiver already holds — until its grace period
 * ends, and with the new one from then on. A receiver that checks verify() with both secrets during the grace
 * period (docs/outbound.md, "Rotating a secret") never sees a delivery it cannot verify; signing with the new
 * secret at once failed every receiver that had not yet been given it, from the first delivery after the
 * rotation.
 */
export function signatureHeaders(input: SignatureInput): Record<string, string> {
  const { deliveryId, eventType, timestamp, body, signatureHeader } = input;
  if (input.secrets.length === 0) throw new Error('A webhook without a live secret cannot be signed');
  const secrets = input.secrets.map(keyOf);
  return {
    [signatureHeader]: towlineSignature(secrets[secrets.length - 1], body),
    'X-Towline-Event': eventType,
    'X-Towline-Delivery': deliveryId,
    'X-Towline-Timestamp': String(timestamp),
    'webhook-id': deliveryId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((secret) => standardWebhooksSignature(secret, deliveryId, timestamp, body)).join(' '),
  };
}
