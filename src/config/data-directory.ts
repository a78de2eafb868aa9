import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
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
