import { DatabaseSync } from 'node:sqlite';

/** A row of the embedded store's `events` table, as the file holds it (src/event-store/sqlite/sqlite.event-store.ts). */
export interface StoredRow {
  position: number;
  stream: string;
  revision: number;
  id: string;
  type: string;
  data: string;
  metadata: string;
  created: number;
}

/** Every row of a store file in log order, read with node:sqlite directly — not through the adapter. */
export function storedRows(path: string): StoredRow[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare('SELECT position, stream, revision, id, type, data, metadata, created FROM events ORDER BY position').all() as unknown as StoredRow[];
  } finally {
    db.close();
  }
}
