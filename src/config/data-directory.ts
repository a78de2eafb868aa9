import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ConfigError } from './config';

/** Everything Towline keeps in TW_DATA_DIR: the event store, the read models (each with its WAL) and the master key. */
export const DATA_FILES = [
  'towline.db',
  'towline.db-wal',
  'towline.db-shm',
  'read-models.db',
  'read-models.db-wal',
  'read-models.db-shm',
  'master.key',
  'towline.lock',
];

/**
 * The data directory holds every alert verbatim and the key that unseals the signing secrets: readable by
 * its owner only (directory 0700, files 0600), whatever the umask. main.ts also sets the umask to 077, so
 * files SQLite creates later (a new WAL) are born private; this repairs what exists already — a directory
 * made by hand, or files an earlier version left 0644. Called before the stores open and once more after,
 * since a first start creates them in between.
 */
export function secureDataDirectory(dataDir: string): void {
  if (dataDir === ':memory:') return;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700);
    for (const name of DATA_FILES) {
      try {
        chmodSync(join(dataDir, name), 0o600);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  } catch (error) {
    throw new ConfigError(`TW_DATA_DIR=${JSON.stringify(dataDir)}: cannot make it private to this user: ${(error as Error).message}`);
  }
}

/**
 * Holds TW_DATA_DIR for this process until `release()`: two processes on one directory would both process the
 * queue and deliver everything twice, and each would reconcile the configuration file into the store. The
 * lock is SQLite's own exclusive lock on `towline.lock`, an fcntl lock the operating system drops with the
 * process — so a `kill -9` leaves nothing to clean up, and a restart takes the directory at once.
 */
export function lockDataDirectory(dataDir: string): { release(): void } {
  if (dataDir === ':memory:') return { release: () => undefined };
  const lock = new DatabaseSync(join(dataDir, 'towline.lock'));
  try {
    lock.exec('PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE');
  } catch {
    lock.close();
    throw new ConfigError(
      `TW_DATA_DIR=${JSON.stringify(dataDir)} is in use by another Towline process (it holds towline.lock): ` +
        'stop that one first, or give this one a data directory of its own',
    );
  }
  return {
    release: () => {
      if (lock.isOpen) lock.close();
    },
  };
}
