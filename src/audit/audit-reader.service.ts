import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { StreamNotFound } from '../event-store/event-store.errors';
import {
  EVENT_STORE,
  comparePositions,
  type EventStore,
  type Position,
  type RecordedEvent,
} from '../event-store/event-store.port';
import { GENESIS_HASH } from '../event-store/hash-chain';
import { hashOf, toRecord, type AuditRecord } from './audit-record';
import { AuditScope } from './audit-scope';
import { AuditStreamsProjection } from './projections/audit-streams.projection';

const PAGE = 1_000;
/** An organisation's page of $all scans at most this many events of others before it answers with a cursor. */
const SCAN_LIMIT = 20_000;
const PREV_CACHE = 100_000;

export interface StreamSummary {
  stream: string;
  organisation_id: string | null;
  revision: number;
  hash: string;
  position: string;
  updated: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export const positionFromCursor = (text: string): Position => {
  const [commit, prepare = commit] = text.split('/');
  return { commit: BigInt(commit), prepare: BigInt(prepare) };
};

/**
 * Reading the log as auditors do: streams with their heads, a stream's events, and the whole log, each as
 * pages with cursors or as a stream of records (NDJSON) read page by page, so memory stays flat whatever the
 * size. Reads go through the event-store port only.
 */
@Injectable()
export class AuditReader {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly scope: AuditScope,
    private readonly index: AuditStreamsProjection,
  ) {}

  streams(principal: Principal, prefix: string, cursor: string | undefined, limit: number): Page<StreamSummary> {
    const after = cursor === undefined ? '' : Buffer.from(cursor, 'base64url').toString('utf8');
    const rows = this.index.page(this.scope.confinedTo(principal), prefix, after, limit + 1);
    const items = rows.slice(0, limit).map((row) => ({
      stream: row.stream,
      organisation_id: row.organisation_id,
      revision: row.revision,
      hash: row.hash,
      position: `${row.last_position}/${row.last_position}`,
      updated: new Date(row.updated_ms).toISOString(),
    }));
    const next = rows.length > limit ? Buffer.from(items[items.length - 1].stream, 'utf8').toString('base64url') : null;
    return { items, next_cursor: next };
  }

  /** One page of a stream (after the caller's access was checked); the cursor is the next revision to read. */
  async streamPage(stream: string, from: number | undefined, limit: number, direction: 'forwards' | 'backwards'): Promise<Page<AuditRecord>> {
    const records: AuditRecord[] = [];
    for await (const record of this.streamRecords(stream, from, direction, limit + 1)) records.push(record);
    const items = records.slice(0, limit);
    const last = items.at(-1);
    const next = records.length > limit && last ? String(direction === 'forwards' ? last.revision + 1 : last.revision - 1) : null;
    return { items, next_cursor: next };
  }

  /** A stream's records from `from` on (default: its start, or its end backwards), at most `max`. */
  async *streamRecords(stream: string, from: number | undefined, direction: 'forwards' | 'backwards', max = Infinity): AsyncGenerator<AuditRecord> {
    let emitted = 0;
    if (direction === 'forwards') {
      let next = from ?? 0;
      let prev: string | null = next === 0 ? GENESIS_HASH : await this.hashAt(stream, next - 1);
      while (emitted < max) {
        const page = await this.readStream(stream, { fromRevision: BigInt(next), maxCount: Math.min(PAGE, max - emitted) });
        for (const event of page) {
          // A removed event leaves the next one without its predecessor: its prev is unknown, not the one before.
          yield toRecord(event, Number(event.revision) === next ? prev : null);
          prev = hashOf(event);
          next = Number(event.revision) + 1;
          emitted += 1;
        }
        if (page.length < PAGE) return;
      }
      return;
    }
    let next: bigint | 'end' = from === undefined ? 'end' : BigInt(from);
    while (emitted < max) {
      const want = Math.min(PAGE, max - emitted);
      // One event more than is emitted: it gives the prev of the oldest one, and starts the next page.
      const page = await this.readStream(stream, { direction: 'backwards', fromRevision: next, maxCount: want + 1 });
      for (const [i, event] of page.slice(0, want).entries()) {
        const older = page[i + 1];
        const revision = Number(event.revision);
        const prev = revision === 0 ? GENESIS_HASH : older && Number(older.revision) === revision - 1 ? hashOf(older) : await this.hashAt(stream, revision - 1);
        yield toRecord(event, prev);
        emitted += 1;
      }
      if (page.length <= want) return;
      next = page[want].revision;
    }
  }

  /** A page of the whole log after `from`, confined to the principal's organisation. */
  async allPage(principal: Principal, from: Position | undefined, limit: number, since?: Date): Promise<Page<AuditRecord>> {
    const items: AuditRecord[] = [];
    const prevs = new Map<string, { revision: number; hash: string }>();
    let cursor: Position | undefined = from;
    let scanned = 0;
    while (items.length < limit && scanned < SCAN_LIMIT) {
      const page = await this.store.readAll({ after: cursor, maxCount: PAGE });
      let read = 0;
      for (const event of page) {
        cursor = event.position;
        read += 1;
        const record = await this.admit(principal, event, prevs, since);
        if (record) items.push(record);
        if (items.length >= limit) break;
      }
      scanned += read;
      // The end of the log, every event of it looked at: no cursor to go on from.
      if (page.length < PAGE && read === page.length) return { items, next_cursor: null };
    }
    return { items, next_cursor: cursor ? `${cursor.commit}/${cursor.prepare}` : null };
  }

  /** Every record of the log after `from` up to the head as it is now, confined to the principal's organisation. */
  async *allRecords(principal: Principal, from: Position | undefined, since?: Date, onPage?: (position: Position) => void): AsyncGenerator<AuditRecord[]> {
    const head = await this.store.headPosition();
    if (!head) return;
    const prevs = new Map<string, { revision: number; hash: string }>();
    let cursor = from;
    for (;;) {
      const page = await this.store.readAll({ after: cursor, maxCount: PAGE });
      const out: AuditRecord[] = [];
      let done = page.length < PAGE;
      for (const event of page) {
        if (comparePositions(event.position, head) > 0) {
          done = true;
          break;
        }
        cursor = event.position;
        const record = await this.admit(principal, event, prevs, since);
        if (record) out.push(record);
      }
      if (cursor) onPage?.(cursor);
      if (out.length > 0) yield out;
      if (done) return;
    }
  }

  async headPosition(): Promise<Position | undefined> {
    return this.store.headPosition();
  }

  private async admit(
    principal: Principal,
    event: RecordedEvent,
    prevs: Map<string, { revision: number; hash: string }>,
    since: Date | undefined,
  ): Promise<AuditRecord | null> {
    const confined = this.scope.confinedTo(principal);
    if (confined !== undefined && (await this.scope.organisationOfEvent(event)) !== confined) return null;
    const revision = Number(event.revision);
    const known = prevs.get(event.stream);
    let prev: string | null;
    if (revision === 0) prev = GENESIS_HASH;
    else if (known && known.revision === revision - 1) prev = known.hash;
    else prev = await this.hashAt(event.stream, revision - 1);
    // Bounded: the streams seen last; a stream seen again after being forgotten costs one indexed read.
    prevs.delete(event.stream);
    if (prevs.size >= PREV_CACHE) prevs.delete(prevs.keys().next().value!);
    prevs.set(event.stream, { revision, hash: hashOf(event) });
    if (since && event.created < since) return null;
    return toRecord(event, prev);
  }

  /** The recorded hash of a stream's event at `revision`, or null when there is none. */
  private async hashAt(stream: string, revision: number): Promise<string | null> {
    const [event] = await this.readStream(stream, { fromRevision: BigInt(revision), maxCount: 1 });
    return event && Number(event.revision) === revision ? hashOf(event) : null;
  }

  private async readStream(stream: string, options: Parameters<EventStore['readStream']>[1]): Promise<RecordedEvent[]> {
    try {
      return await this.store.readStream(stream, options);
    } catch (error) {
      if (error instanceof StreamNotFound) return [];
      throw error;
    }
  }
}
