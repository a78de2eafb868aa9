import { nameBasedUuid } from '../contracts/ids';

/**
 * Outbound's published id rules (derived through src/contracts/ids.ts): anyone can recompute them — a delivery id
 * is uuidv5(DELIVERY_NAMESPACE, "<event id>/<webhook id>").
 */
export const DELIVERY_NAMESPACE = '6f0d1a3e-6c2b-5d7a-9e41-3b8f2c7d9a10';
/** Security events derived from another event: uuidv5(DERIVED_EVENT_NAMESPACE, "<kind>/<cause>"). */
export const DERIVED_EVENT_NAMESPACE = 'a4c3b2e1-7d6f-5a8b-8c9d-0e1f2a3b4c5d';

export const deliveryIdFor = (eventId: string, webhookId: string) => nameBasedUuid(DELIVERY_NAMESPACE, `${eventId}/${webhookId}`);

export const derivedEventId = (kind: string, cause: string) => nameBasedUuid(DERIVED_EVENT_NAMESPACE, `${kind}/${cause}`);
