import type { StatementSync } from 'node:sqlite';
import { decodePosition, encodePosition, type Position } from '../event-store/event-store.port';
import type { ReadModelDatabase } from '../read-model/read-model.database';

/** An event a consumer could not handle (`failed`), or one held back behind it in the same partition (`waiting`). */
export interface ParkedEvent {
  seq: number;
  consumer: string;
  partition: string;
  status: 'failed' | 'waiting';
  position: Position;
  eventId: string;
  stream: string;
  revision: bigint;
  type: string;
  error: string | null;
  attempts: number;
  parkedAt: string;
  retriedAt: string | null;
}

interface Row {
  seq: number;
  consumer: string;
  partition_key: string;
  status: 'failed' | 'waiting';
  position: string;
  event_id: string;
  stream: string;
  revision: number;
  type: string;
  error: string | null;
  attempts: number;
  parked_at: string;
  retried_at: string | null;
}

const toParked = (row: Row): ParkedEvent => ({
  seq: row.seq,
  consumer: row.consumer,
  partition: row.partition_key,
  status: row.status,
  position: decodePosition(row.position),
  eventId: row.event_id,
  stream: row.stream,
  revision: BigInt(row.revision),
  type: row.type,
  error: row.error,
  attempts: row.attempts,
  parkedAt: row.parked_at,
  retriedAt: row.retried_at,
});

/** What parking an event records; `error` null: held back behind an earlier failure of the same partition, never tried. */
export type ParkInput = Pick<ParkedEvent, 'consumer' | 'partition' | 'position' | 'eventId' | 'stream' | 'revision' | 'type' | 'error' | 'attempts'>;

/**
 * The parked events of every consumer, in the read-model file beside the checkpoints: a park is written in the
 * same transaction as the checkpoint that moves past the event, so an event is never both skipped and unparked.
 * Like the rest of the file it is derived state — a rebuild from zero parks the same events again.
 */
export class ParkedEvents {
  private readonly sql: Record<string, StatementSync>;

  constructor(private readonly readModels: ReadModelDatabase) {
    readModels.db.exec(`
      CREATE TABLE IF NOT EXISTS read_side_parked (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, consumer TEXT NOT NULL, partition_key TEXT NOT NULL, status TEXT NOT NULL,
        position TEXT NOT NULL, event_id TEXT NOT NULL, stream TEXT NOT NULL, revision INTEGER NOT NULL, type TEXT NOT NULL,
        error TEXT, attempts INTEGER NOT NULL, parked_at TEXT NOT NULL, retried_at TEXT,
        UNIQUE (consumer, event_id)
      );
      CREATE INDEX IF NOT EXISTS read_side_parked_by_partition ON read_side_parked (consumer, partition_key, seq);
    `);
    const db = readModels.db;
    this.sql = {
      park: db.prepare(
        `INSERT OR IGNORE INTO read_side_parked (consumer, partition_key, status, position, event_id, stream, revision, type, error, attempts, parked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      partitions: db.prepare('SELECT DISTINCT partition_key FROM read_side_parked WHERE consumer = ?'),
      ofPartition: db.prepare('SELECT * FROM read_side_parked WHERE consumer = ? AND partition_key = ? ORDER BY seq'),
      list: db.prepare('SELECT * FROM read_side_parked WHERE (?1 IS NULL OR consumer = ?1) ORDER BY seq LIMIT ?2'),
      counts: db.prepare('SELECT consumer, count(*) AS count FROM read_side_parked GROUP BY consumer'),
      remove: db.prepare('DELETE FROM read_side_parked WHERE seq = ?'),
      failedAgain: db.prepare("UPDATE read_side_parked SET status = 'failed', error = ?, attempts = attempts + ?, retried_at = ? WHERE seq = ?"),
      forget: db.prepare('DELETE FROM read_side_parked WHERE consumer = ?'),
    };
  }

  park(input: ParkInput): void {
    this.sql.park.run(
      input.consumer,
      input.partition,
      input.error === null ? 'waiting' : 'failed',
      encodePosition(input.position),
      input.eventId,
      input.stream,
      input.revision,
      input.type,
      input.error,
      input.attempts,
      new Date().toISOString(),
    );
  }

  partitions(consumer: string): Set<string> {
    return new Set((this.sql.partitions.all(consumer) as { partition_key: string }[]).map((r) => r.partition_key));
  }

  ofPartition(consumer: string, partition: string): ParkedEvent[] {
    return (this.sql.ofPartition.all(consumer, partition) as unknown as Row[]).map(toParked);
  }

  list(consumer: string | null, limit: number): ParkedEvent[] {
    return (this.sql.list.all(consumer, limit) as unknown as Row[]).map(toParked);
  }

  counts(): Map<string, number> {
    return new Map((this.sql.counts.all() as { consumer: string; count: number }[]).map((r) => [r.consumer, r.count]));
  }

  /** Handled on a retry: no longer parked. */
  remove(seq: number): void {
    this.sql.remove.run(seq);
  }

  failedAgain(seq: number, error: string, attempts: number): void {
    this.sql.failedAgain.run(error, attempts, new Date().toISOString(), seq);
  }

  /** A consumer rebuilt from zero parks again whatever still fails. */
  forget(consumer: string): void {
    this.sql.forget.run(consumer);
  }

  get database(): ReadModelDatabase {
    return this.readModels;
  }
}
