import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { decodePosition, encodePosition, type CheckpointStore, type Position } from '../event-store/event-store.port';
import { WAL_AUTOCHECKPOINT_PAGES, WAL_SIZE_LIMIT_BYTES, WalCheckpointer } from '../event-store/sqlite/wal-checkpointer';

export const READ_MODEL_DATABASE = Symbol('READ_MODEL_DATABASE');

const TABLE_NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * How long a group of read-model writes stays open before it commits. A commit writes every page the group
 * dirtied to the WAL, and consumers dirty the same index pages again and again: committing every turn of the
 * event loop instead cost the inbound benchmark a third more CPU per alert (2.99 against 2.02 ms, measured on
 * a busy machine). Nothing waits for the commit — the connection reads its own uncommitted rows, and a crash
 * only redoes work from the checkpoints, which commit with the rows.
 */
const GROUP_COMMIT_MS = 50;

/**
 * The local SQLite file that holds this instance's read models and the checkpoints of the consumers that
 * build them. Everything in it is derived from the event store and can be rebuilt from position zero by
 * deleting the file, so it trades fsync-per-commit (synchronous=NORMAL) for speed: a crash can only lose
 * work that is redone from the last checkpoint — and since a projection's rows and its checkpoint commit in
 * one transaction, what is redone was never applied. Each instance keeps its own, even on a shared EventStoreDB.
 *
 * Group commit: every write made through `transaction` within GROUP_COMMIT_MS joins one transaction — one
 * commit for all the consumers that moved meanwhile, each write still atomic on its own (a savepoint). The
 * connection sees its own uncommitted rows, so a read right after a write (read-your-writes) finds it.
 */
export class ReadModelDatabase implements CheckpointStore {
  readonly db: DatabaseSync;
  private readonly loadCheckpoint;
  private readonly saveCheckpoint;
  private readonly dropCheckpoint;
  private readonly control;
  private commitTimer: NodeJS.Timeout | null = null;
  private readonly checkpointer: WalCheckpointer | null = null;
  /** Called when a group's COMMIT fails: what it held is gone, so consumers must resume from their stored checkpoints. */
  onCommitFailed?: (error: unknown) => void;

  constructor(dataDir: string) {
    const path = dataDir === ':memory:' ? ':memory:' : join(dataDir, 'read-models.db');
    if (path !== ':memory:') mkdirSync(dataDir, { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      PRAGMA busy_timeout = 5000;
      -- A worker thread checkpoints (WalCheckpointer); this connection only past WAL_AUTOCHECKPOINT_PAGES.
      PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES};
      -- A WAL that one large transaction grew is cut back to this when it rewinds, rather than kept at its peak.
      PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT_BYTES};
      -- 32 MiB of pages (the default is 2 MiB): on a store of a million events, the indexes a write or a read
      -- walks no longer fall out of the cache between requests (growth benchmark: p99 5x the empty store's at
      -- the default, 1.5x with this).
      PRAGMA cache_size = -32768;
      CREATE TABLE IF NOT EXISTS checkpoints (
        consumer   TEXT PRIMARY KEY,
        position   TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `);
    // Files written before read models were versioned hold version 1, the version every consumer started at.
    const columns = this.db.prepare("SELECT name FROM pragma_table_info('checkpoints')").all() as { name: string }[];
    if (!columns.some((c) => c.name === 'version')) this.db.exec('ALTER TABLE checkpoints ADD COLUMN version INTEGER NOT NULL DEFAULT 1');
    if (path !== ':memory:') this.checkpointer = new WalCheckpointer(path);
    this.loadCheckpoint = this.db.prepare('SELECT position, version FROM checkpoints WHERE consumer = ?');
    this.saveCheckpoint = this.db.prepare(
      'INSERT INTO checkpoints (consumer, position, updated_at, version) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (consumer) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at, version = excluded.version',
    );
    this.dropCheckpoint = this.db.prepare('DELETE FROM checkpoints WHERE consumer = ?');
    this.control = {
      begin: this.db.prepare('BEGIN'),
      commit: this.db.prepare('COMMIT'),
      savepoint: this.db.prepare('SAVEPOINT work'),
      release: this.db.prepare('RELEASE work'),
      rollbackTo: this.db.prepare('ROLLBACK TO work'),
    };
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
    this.transaction(() => this.saveCheckpoint.run(consumer, encodePosition(position), Date.now(), version));
  }

  /**
   * Runs `work` atomically (synchronous: nothing else can interleave on this connection meanwhile) inside this
   * turn's transaction, which commits at the next `setImmediate`; `flush` commits it at once.
   */
  transaction<T>(work: () => T): T {
    if (!this.db.isTransaction) {
      this.control.begin.run();
      this.commitTimer = setTimeout(() => this.flush(), GROUP_COMMIT_MS);
    }
    this.control.savepoint.run();
    try {
      const result = work();
      this.control.release.run();
      return result;
    } catch (error) {
      this.control.rollbackTo.run();
      this.control.release.run();
      throw error;
    }
  }

  /** Commits the pending group, if any. */
  flush(): void {
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = null;
    if (!this.db.isOpen || !this.db.isTransaction) return;
    try {
      this.control.commit.run();
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      this.onCommitFailed?.(error);
    }
  }

  /**
   * Drops the named indexes (see StoreConsumerOptions.queryIndexes) and returns what creates them again, with
   * the statements they were created by.
   */
  deferIndexes(names: readonly string[]): () => void {
    const find = this.db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ? AND sql IS NOT NULL");
    const statements = names.map((name) => {
      const row = find.get(name) as { sql: string } | undefined;
      if (!row) throw new Error(`queryIndexes names '${name}', which is no index of the read models`);
      this.db.exec(`DROP INDEX ${tableName(name)}`);
      return row.sql;
    });
    return () => {
      for (const sql of statements) this.db.exec(sql);
    };
  }

  /** Empties a consumer's tables and forgets its checkpoint, in one transaction, so it rebuilds from zero. */
  reset(consumer: string, tables: readonly string[]): void {
    this.transaction(() => {
      for (const table of tables) this.db.exec(`DELETE FROM ${tableName(table)}`);
      this.dropCheckpoint.run(consumer);
    });
  }

  close(): void {
    this.flush();
    // Not awaited: whichever connection closes last checkpoints what is left, the worker's or this one.
    void this.checkpointer?.stop();
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
