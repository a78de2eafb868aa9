import { EventTooLarge } from './event-store.errors';
import type { EventData } from './event-store.port';

/** EventStoreDB's default MaxAppendSize (1 MiB), and Towline's default TW_MAX_APPEND_SIZE. */
export const DEFAULT_MAX_APPEND_SIZE = 1024 * 1024;

// Lower case only: EventStoreDB hands ids back in lower case, and the chain hash covers the id as written.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What the port adds to every event's metadata (`"hash":"<64 hex>"`, and its comma), counted in advance. */
const HASH_OVERHEAD = ',"hash":""'.length + 64;

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The size of one event as EventStoreDB counts it against MaxAppendSize: its data and metadata bytes (as the
 * client sends them: JSON in UTF-8, the port's hash included) plus its type at two bytes a character. `text`:
 * the event already serialized (JCS has JSON.stringify's length), so that it is not serialized again here.
 */
export function eventSize(event: EventData, text?: { data: string; metadata: string }): number {
  const data = text?.data ?? JSON.stringify(event.data);
  const metadata = text?.metadata ?? JSON.stringify(event.metadata ?? {});
  return Buffer.byteLength(data, 'utf8') + Buffer.byteLength(metadata, 'utf8') + HASH_OVERHEAD + 2 * event.type.length;
}

/** The size of an append: the sum of its events' (EventStoreDB checks the whole append, not each event). */
export function appendSize(events: readonly EventData[]): number {
  return events.reduce((sum, event) => sum + eventSize(event), 0);
}

/**
 * What both adapters refuse before touching the store: EventStoreDB requires uuid event ids, the chain
 * hash is the port's to write (a caller-supplied `hash` would be a forgery), and an append over the maximum
 * append size would be refused by EventStoreDB after the fact — so it is refused here, typed, on both.
 * Returns the append's size.
 */
export function validateAppend(stream: string, events: EventData[], maxAppendSize = DEFAULT_MAX_APPEND_SIZE): number {
  validateEvents(stream, events);
  return checkAppendSize(stream, events, events.map((event) => eventSize(event)), maxAppendSize);
}

/** validateAppend's checks of the stream name and each event's shape. */
export function validateEvents(stream: string, events: EventData[]): void {
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

/** validateAppend's size limit, given each event's size (eventSize); returns the total. */
export function checkAppendSize(stream: string, events: readonly EventData[], sizes: readonly number[], maxAppendSize: number): number {
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (total > maxAppendSize) {
    const largest = sizes.indexOf(Math.max(...sizes));
    throw new EventTooLarge(stream, events[largest].type, total, maxAppendSize);
  }
  return total;
}
