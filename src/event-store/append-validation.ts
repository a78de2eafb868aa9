import type { EventData } from './event-store.port';

// Lower case only: EventStoreDB hands ids back in lower case, and the chain hash covers the id as written.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What both adapters refuse before touching the store: EventStoreDB requires uuid event ids, and the chain
 * hash is the port's to write, so a caller-supplied `hash` would be a forgery.
 */
export function validateAppend(stream: string, events: EventData[]): void {
  if (typeof stream !== 'string' || stream.length === 0 || stream.startsWith('$')) {
    throw new TypeError(`Invalid stream name: '${String(stream)}'`);
  }
  if (!Array.isArray(events) || events.length === 0) throw new TypeError('append needs at least one event');
  for (const event of events) {
    if (!UUID.test(event.id)) throw new TypeError(`Event id must be a lower-case uuid: '${String(event.id)}'`);
    if (typeof event.type !== 'string' || event.type.length === 0) throw new TypeError('Event type must be a non-empty string');
    if (!isPlainObject(event.data)) throw new TypeError(`Event data must be a JSON object (${event.type})`);
    if (event.metadata !== undefined) {
      if (!isPlainObject(event.metadata)) throw new TypeError(`Event metadata must be a JSON object (${event.type})`);
      if ('hash' in event.metadata) throw new TypeError('metadata.hash is written by the event store, not by callers');
    }
  }
}
