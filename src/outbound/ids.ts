import { createHash } from 'node:crypto';

/**
 * RFC 9562 name-based uuids (version 5, SHA-1) for everything a replay or a retry must find again: the
 * same inputs always give the same id, so recording it twice is recognised instead of duplicated. Anyone
 * can recompute them: a delivery id is uuidv5(DELIVERY_NAMESPACE, "<event id>/<webhook id>").
 */
export const DELIVERY_NAMESPACE = '6f0d1a3e-6c2b-5d7a-9e41-3b8f2c7d9a10';
/** Security events derived from another event: uuidv5(DERIVED_EVENT_NAMESPACE, "<kind>/<cause>"). */
export const DERIVED_EVENT_NAMESPACE = 'a4c3b2e1-7d6f-5a8b-8c9d-0e1f2a3b4c5d';

export function uuidV5(namespace: string, name: string): string {
  const hash = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Lower-case uuids only, as the store writes them. */
export const isUuid = (value: string) => UUID.test(value);

export const deliveryIdFor = (eventId: string, webhookId: string) => uuidV5(DELIVERY_NAMESPACE, `${eventId}/${webhookId}`);

export const derivedEventId = (kind: string, cause: string) => uuidV5(DERIVED_EVENT_NAMESPACE, `${kind}/${cause}`);
