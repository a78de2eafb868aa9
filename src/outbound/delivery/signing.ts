import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

/**
 * Webhook secrets are Standard Webhooks secrets: `whsec_` + base64 of 24–64 random bytes. Both signatures
 * come from the one secret:
 * - the seed's `sha256=<hex HMAC-SHA256>` over the raw body, keyed by the UTF-8 bytes of the whole secret
 *   string (prefix included), so the seed's Python verify() works unchanged;
 * - Standard Webhooks' `v1,<base64 HMAC-SHA256>` over `<webhook-id>.<webhook-timestamp>.<body>`, keyed by the
 *   base64-decoded bytes after `whsec_`, so the standardwebhooks libraries verify it.
 */
export const SECRET_PREFIX = 'whsec_';
const SECRET_FORMAT = /^whsec_(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const SECRET_MIN_BYTES = 24;
export const SECRET_MAX_BYTES = 64;

export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

export function isWebhookSecret(value: unknown): value is string {
  if (typeof value !== 'string' || !SECRET_FORMAT.test(value)) return false;
  const bytes = Buffer.from(value.slice(SECRET_PREFIX.length), 'base64').length;
  return bytes >= SECRET_MIN_BYTES && bytes <= SECRET_MAX_BYTES;
}

/**
 * One secret, ready to sign with: the key of each scheme as a KeyObject. Measured on Node 24 (bench/
 * outbound.bench.ts profile): an HMAC keyed by a Buffer costs ~18 µs, because the Buffer is turned into a key
 * object on every call, against ~3 µs with a KeyObject made once; a delivery signs twice per live secret.
 */
export interface SigningKey {
  /** The UTF-8 bytes of the whole secret string (the seed's scheme). */
  towline: KeyObject;
  /** The base64-decoded bytes after `whsec_` (Standard Webhooks). */
  standard: KeyObject;
}

export function signingKey(secret: string): SigningKey {
  return {
    towline: createSecretKey(Buffer.from(secret, 'utf8')),
    standard: createSecretKey(Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64')),
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
 * secret verifies; the `sha256=` header can carry only one value that the seed's verify() accepts, so it is
 * signed with the newest secret, the one the rotation just handed out.
 */
export function signatureHeaders(input: SignatureInput): Record<string, string> {
  const { deliveryId, eventType, timestamp, body, signatureHeader } = input;
  if (input.secrets.length === 0) throw new Error('A webhook without a live secret cannot be signed');
  const secrets = input.secrets.map(keyOf);
  return {
    [signatureHeader]: towlineSignature(secrets[0], body),
    'X-Towline-Event': eventType,
    'X-Towline-Delivery': deliveryId,
    'X-Towline-Timestamp': String(timestamp),
    'webhook-id': deliveryId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((secret) => standardWebhooksSignature(secret, deliveryId, timestamp, body)).join(' '),
  };
}
