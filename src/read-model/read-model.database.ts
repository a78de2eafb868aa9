import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { decodePosition, encodePosition, type CheckpointStore, type Position } from '../event-store/event-store.port';

export const READ_MODEL_DATABASE = Symbol('READ_MODEL_DATABASE');

/**
 * The local SQLite file that holds this instance's read models and the checkpoints of the consumers that
 * build them. Everything in it is derived from the event store and can be rebuilt from position zero by
 * deleting the file, so it trades fsync-per-commit (synchronous=NORMAL) for speed: a crash can only lose
 * work that is redone from the last checkpoint. Each instance keeps its own, even on a shared EventStoreDB.
 */
export class ReadModelDatabase implements CheckpointStore {
  readonly db: DatabaseSync;
  private readonly loadCheckpoint;
  private readonly saveCheckpoint;

  constructor(dataDir: string) {
    const path = dataDir === ':memory:' ? ':memory:' : join(dataDir, 'read-models.db');
    if (path !== ':memory:') mkdirSync(dataDir, { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS checkpoints (
        consumer   TEXT PRIMARY KEY,
        position   TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `);
    this.loadCheckpoint = this.db.prepare('SELECT position FROM checkpoints WHERE consumer = ?');
    this.saveCheckpoint = this.db.prepare(
      'INSERT INTO checkpoints (consumer, position, updated_at) VALUES (?, ?, ?) ' +
        'ON CONFLICT (consumer) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at',
    );
  }

  checkpoint(consumer: string): Position | undefined {
    const row = this.loadCheckpoint.get(consumer) as { position: string } | undefined;
    return row ? decodePosition(row.position) : undefined;
  }

  storeCheckpoint(consumer: string, position: Position): void {
    this.saveCheckpoint.run(consumer, encodePosition(position), Date.now());
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
