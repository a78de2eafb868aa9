import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { decodePosition, encodePosition, type CheckpointStore, type Position } from '../event-store/event-store.port';

export const READ_MODEL_DATABASE = Symbol('READ_MODEL_DATABASE');

const TABLE_NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * The local SQLite file that holds this instance's read models and the checkpoints of the consumers that
 * build them. Everything in it is derived from the event store and can be rebuilt from position zero by
 * deleting the file, so it trades fsync-per-commit (synchronous=NORMAL) for speed: a crash can only lose
 * work that is redone from the last checkpoint — and since a projection's rows and its checkpoint commit in
 * one transaction, what is redone was never applied. Each instance keeps its own, even on a shared EventStoreDB.
 */
export class ReadModelDatabase implements CheckpointStore {
  readonly db: DatabaseSync;
  private readonly loadCheckpoint;
  private readonly saveCheckpoint;
  private readonly dropCheckpoint;

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
    // Files written before read models were versioned hold version 1, the version every consumer started at.
    const columns = this.db.prepare("SELECT name FROM pragma_table_info('checkpoints')").all() as { name: string }[];
    if (!columns.some((c) => c.name === 'version')) this.db.exec('ALTER TABLE checkpoints ADD COLUMN version INTEGER NOT NULL DEFAULT 1');
    this.loadCheckpoint = this.db.prepare('SELECT position, version FROM checkpoints WHERE consumer = ?');
    this.saveCheckpoint = this.db.prepare(
      'INSERT INTO checkpoints (consumer, position, updated_at, version) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (consumer) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at, version = excluded.version',
    );
    this.dropCheckpoint = this.db.prepare('DELETE FROM checkpoints WHERE consumer = ?');
  }

  checkpoint(consumer: string): Position | undefined {
    return this.consumerState(consumer)?.position;
  }

  /** The consumer's checkpoint and the version of the read model it was built by. */
  consumerState(consumer: string): { position: Position; version: number } | undefined {
    const row = this.loadCheckpoint.get(consumer) as { position: string; version: number } | undefined;
    return row ? { position: decodePosition(row.position), version: row.version } : undefined;
  }

  storeCheckpoint(consumer: string, position: Position, version = 1): void {
    this.saveCheckpoint.run(consumer, encodePosition(position), Date.now(), version);
  }

  /** Runs `work` in one transaction (synchronous: nothing else can interleave on this connection meanwhile). */
  transaction<T>(work: () => T): T {
    this.db.exec('BEGIN');
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }

  /** Empties a consumer's tables and forgets its checkpoint, in one transaction, so it rebuilds from zero. */
  reset(consumer: string, tables: readonly string[]): void {
    this.transaction(() => {
      for (const table of tables) this.db.exec(`DELETE FROM ${tableName(table)}`);
      this.dropCheckpoint.run(consumer);
    });
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}

export function tableName(table: string): string {
  if (!TABLE_NAME.test(table)) throw new Error(`Not a table name: ${table}`);
  return table;
}

/** Every row of a table, in a stable order (all columns), for comparing a rebuild with the live database. */
export function tableRows(readModels: ReadModelDatabase, table: string): Record<string, unknown>[] {
  const columns = (readModels.db.prepare(`SELECT name FROM pragma_table_info('${tableName(table)}')`).all() as { name: string }[]).map(
    (c) => c.name,
  );
  return readModels.db.prepare(`SELECT * FROM ${table} ORDER BY ${columns.join(', ')}`).all() as Record<string, unknown>[];
}
