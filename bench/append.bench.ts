import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite.event-store';
import { compared, envInt, seconds, type Figure } from './measure';

/**
 * Append: Towline's embedded store (group commit, hash chain, expected-revision checks) against the naive
 * baseline of one fsynced SQLite transaction per append, both WAL + synchronous=FULL, same writers.
 */
const WRITERS = envInt('BENCH_WRITERS', 64);
const APPENDS = envInt('BENCH_APPENDS', 4000);
const payload = { source: 'edr', vendor: 'crowdstrike', title: 'Malicious File Detected', severity: 'high' };

async function baseline(dir: string): Promise<void> {
  const db = new DatabaseSync(join(dir, 'baseline.db'));
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
    CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT, revision INTEGER, id TEXT, type TEXT, data TEXT, metadata TEXT, created INTEGER);
    CREATE UNIQUE INDEX events_by_stream ON events (stream, revision);`);
  const insert = db.prepare('INSERT INTO events (stream, revision, id, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const revisions = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, writer) => {
      while (next < APPENDS) {
        next++;
        const stream = `alert-${writer}`;
        const revision = (revisions.get(stream) ?? -1) + 1;
        revisions.set(stream, revision);
        insert.run(stream, revision, randomUUID(), 'AlertReceived', JSON.stringify(payload), '{}', Date.now());
        await new Promise((resolve) => setImmediate(resolve)); // let the other writers interleave, as requests would
      }
    }),
  );
  db.close();
}

async function towline(dir: string): Promise<void> {
  const store = new SqliteEventStore(join(dir, 'towline.db'));
  let next = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, writer) => {
      while (next < APPENDS) {
        next++;
        await store.append(`alert-${writer}`, [{ id: randomUUID(), type: 'AlertReceived', data: payload, metadata: {} }]);
      }
    }),
  );
  await store.close();
}

export async function appendBenchmark(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'towline-bench-append-'));
  try {
    const base = await seconds(() => baseline(dir));
    const ours = await seconds(() => towline(dir));
    return [
      compared({
        name: 'append: group commit vs one transaction per append',
        value: APPENDS / ours.seconds,
        baseline: APPENDS / base.seconds,
        unit: 'appends/s',
        // Group commit exists to beat one fsync per append by a wide margin.
        target: 2,
        extra: { appends: APPENDS, writers: WRITERS },
      }),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
