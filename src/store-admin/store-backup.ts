import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { DatabaseSync, backup } from 'node:sqlite';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { DATA_FILES } from '../config/data-directory';
import { EVENT_STORE, encodePosition, type EventStore, type Position } from '../event-store/event-store.port';
import { SqliteEventStore } from '../event-store/sqlite/sqlite.event-store';
import { AppError, conflict } from '../http/app-error';
import { verifyStore } from './store-verification';

export interface BackupResult {
  /** Absolute path of the backup file. */
  path: string;
  events: number;
  bytes: number;
  /** The position of the last event in the backup (encoded as checkpoints are), null for an empty store. */
  last_position: string | null;
}

/** A backup is one SQLite step over all pages: this many pages, i.e. the whole file in one go (see below). */
const ALL_PAGES = 2 ** 31 - 1;

/**
 * An online backup of the embedded store: `towline.db` copied with SQLite's online backup API (node:sqlite's
 * `backup`) while the server keeps writing, then opened as a store and verified (every stream's hash chain)
 * before it is given its final name.
 *
 * Why one step over all pages: the backup reads through a connection of its own, and SQLite restarts a
 * backup from the first page whenever another connection writes between two steps — under a steady stream
 * of alerts a paced backup might never finish. A single step is a single read transaction, and in WAL mode
 * a read transaction is a consistent snapshot that writers never wait for: the copy is the store exactly as
 * it was at one commit. node:sqlite runs the step on libuv's thread pool, so the event loop goes on serving
 * meanwhile (a 90 MB store copies in about 0.3 s). `VACUUM INTO` would give the same snapshot but runs on the
 * calling thread, blocking every request for as long as it takes.
 */
@Injectable()
export class StoreBackup {
  private running = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async backup(requestedPath?: string): Promise<BackupResult> {
    if (!(this.store instanceof SqliteEventStore)) {
      throw new AppError(
        409,
        'backup_not_supported_on_eventstoredb',
        "This instance keeps its events in EventStoreDB: back it up with EventStoreDB's own backup (file-copy or disk snapshot of the database directory, see docs/store.md), not through Towline",
      );
    }
    if (this.config.dataDir === ':memory:') {
      throw new AppError(409, 'backup_not_supported_in_memory', 'TW_DATA_DIR=:memory: keeps the store in memory: there is no file to back up');
    }
    if (this.running) throw conflict('A backup is already running: wait for it to finish', 'backup_in_progress');
    this.running = true;
    try {
      return await this.run(this.store, requestedPath);
    } finally {
      this.running = false;
    }
  }

  private async run(store: SqliteEventStore, requestedPath: string | undefined): Promise<BackupResult> {
    const target = this.targetPath(requestedPath);
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    // Written under a temporary name and renamed once verified: a file with the final name is a good backup.
    const partial = join(dirname(target), `.${basename(target)}.${randomUUID()}.partial`);
    // Created empty here, 0600, so the copy of every alert is private from its first byte (SQLite keeps the
    // mode of an existing file, and gives its WAL the same).
    closeSync(openSync(partial, 'wx', 0o600));
    let source: DatabaseSync | undefined;
    try {
      source = new DatabaseSync(store.path, { readOnly: true });
      await backup(source, partial, { rate: ALL_PAGES });
      source.close();
      source = undefined;

      const verdict = await this.verify(partial);
      // The final name must still be free: two backups named alike must not overwrite each other.
      if (existsSync(target)) throw conflict(`${target} already exists`, 'backup_exists');
      renameSync(partial, target);
      chmodSync(target, 0o600);
      return {
        path: target,
        events: verdict.events,
        bytes: statSync(target).size,
        last_position: verdict.lastPosition ? encodePosition(verdict.lastPosition) : null,
      };
    } catch (error) {
      source?.close();
      for (const file of [partial, `${partial}-wal`, `${partial}-shm`]) rmSync(file, { force: true });
      throw error;
    }
  }

  /** Opens the copy as a store (as a restore would) and checks every stream's chain. */
  private async verify(path: string): Promise<{ events: number; lastPosition: Position | undefined }> {
    const copy = new SqliteEventStore(path, { maxAppendSize: this.config.maxAppendSize });
    try {
      const verdict = await verifyStore(copy);
      if (verdict.broken.length > 0) {
        throw new AppError(500, 'backup_verification_failed', `The backup does not verify: ${verdict.broken.length} stream(s) with a broken hash chain`, {
          streams: verdict.broken.slice(0, 20),
        });
      }
      return { events: verdict.events, lastPosition: verdict.lastPosition };
    } finally {
      await copy.close();
    }
  }

  /**
   * Where the backup goes: `TW_DATA_DIR/backups/towline-<timestamp>.db` by default, or the caller's path,
   * relative to the data directory (or absolute inside it). It must stay inside the data directory, symbolic
   * links followed, must not exist yet, and must not be one of the live store's own files.
   */
  private targetPath(requested: string | undefined): string {
    const dataDir = this.config.dataDir;
    if (requested === undefined) {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      return join(dataDir, 'backups', `towline-${stamp}.db`);
    }
    const outside = () =>
      new AppError(400, 'backup_path_outside_data_dir', `The backup path must lie inside the data directory (${dataDir}); got '${requested}'`);
    if (requested.includes('\0')) throw outside();
    const target = isAbsolute(requested) ? resolve(requested) : resolve(dataDir, requested);
    if (!isInside(dataDir, target)) throw outside();
    // A symbolic link inside the data directory could still point out of it: check where the deepest
    // existing ancestor really is.
    let ancestor = dirname(target);
    while (!existsSync(ancestor)) ancestor = dirname(ancestor);
    const realDataDir = realpathSync(dataDir);
    const realAncestor = realpathSync(ancestor);
    if (realAncestor !== realDataDir && !isInside(realDataDir, realAncestor)) throw outside();
    if (dirname(target) === resolve(dataDir) && DATA_FILES.includes(basename(target))) {
      throw new AppError(400, 'backup_path_reserved', `'${basename(target)}' is one of the live store's own files`);
    }
    if (existsSync(target)) throw conflict(`${target} already exists: choose another path`, 'backup_exists');
    return target;
  }
}

/** Strictly inside `dir` (not `dir` itself). */
function isInside(dir: string, path: string): boolean {
  const rel = relative(resolve(dir), path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}
