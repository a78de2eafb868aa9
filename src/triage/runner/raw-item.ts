import type { JsonValue } from '../../event-store/event-store.port';

/** The vendor's own item a normalized alert came from: the body itself, or its place in a batch. */
export function rawItem(body: JsonValue, index: number): JsonValue {
  if (Array.isArray(body)) return body[index] ?? null;
  if (body && typeof body === 'object' && Array.isArray(body.value)) return body.value[index] ?? null;
  return body;
}
