import { encodePosition, type JsonObject, type RecordedEvent } from '../event-store/event-store.port';
import type { AuditLink } from './verification/chain-check';

/**
 * One event as audit serves and exports it (one NDJSON line). `prev` is the previous event's hash in the same
 * stream (64 zeros at revision 0), so any slice of a stream verifies from its first record on (docs/audit.md).
 */
export interface AuditRecord {
  stream: string;
  revision: number;
  /** The event's place in the whole log (`commit/prepare`), also the `from` cursor of GET /api/audit/all. */
  position: string;
  id: string;
  type: string;
  data: JsonObject;
  metadata: JsonObject;
  created: string;
  /** null when the previous event is not in the store (it was removed). */
  prev: string | null;
}

export function toRecord(event: RecordedEvent, prev: string | null): AuditRecord {
  return {
    stream: event.stream,
    revision: Number(event.revision),
    position: encodePosition(event.position),
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    created: event.created.toISOString(),
    prev,
  };
}

export function toLink(event: RecordedEvent): AuditLink {
  return { stream: event.stream, revision: Number(event.revision), id: event.id, type: event.type, data: event.data, metadata: event.metadata };
}

export const hashOf = (event: { metadata: JsonObject }): string => String(event.metadata.hash ?? '');
