import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite.event-store';

/**
 * Benchmarks, reported as ratios against a baseline measured in the same process, never as absolute
 * limits: machines here are noisy, a ratio of two runs side by side is not.
 *
 *   append: Towline's embedded store (group commit, hash chain, expected-revision checks) against the naive
 *   baseline of one fsynced SQLite transaction per append, both with WAL + synchronous=FULL, under the same
 *   number of concurrent writers.
 */
const WRITERS = Number(process.env.BENCH_WRITERS ?? 64);
const APPENDS = Number(process.env.BENCH_APPENDS ?? 4000);

interface Result {
  name: string;
  seconds: number;
  perSecond: number;
  heapDeltaMb: number;
}

async function measure(name: string, work: () => Promise<void>): Promise<Result> {
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const start = process.hrtime.bigint();
  await work();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const heapDeltaMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
  return { name, seconds, perSecond: APPENDS / seconds, heapDeltaMb };
}

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

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'towline-bench-'));
  try {
    const base = await measure('baseline: one fsynced transaction per append', () => baseline(dir));
    const ours = await measure('towline: group commit + hash chain', () => towline(dir));
    console.log(`append benchmark: ${APPENDS} single-event appends from ${WRITERS} concurrent writers`);
    for (const r of [base, ours]) {
      console.log(`  ${r.name.padEnd(48)} ${r.perSecond.toFixed(0).padStart(8)} appends/s  heap Δ ${r.heapDeltaMb.toFixed(1)} MiB`);
    }
    console.log(`  ratio (towline / baseline throughput): ${(ours.perSecond / base.perSecond).toFixed(2)}x`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
