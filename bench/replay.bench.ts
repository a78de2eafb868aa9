import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/config';
import { ReadSideRunner } from '../src/cqrs/read-side.runner';
import { comparePositions, EVENT_STORE, type EventStore, type Position } from '../src/event-store/event-store.port';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite.event-store';
import { ReadModelDatabase } from '../src/read-model/read-model.database';
import { startChild, type Role } from './child';
import { compared, mib, peakRssMib, seconds, type Figure } from './measure';
import { waitForHead } from './read-side';
import { benchEnv, replayStore, type ReplayStore } from './replay-store';

/**
 * Replay: the time to rebuild every projection from position zero over the replay store (replay-store.ts:
 * 1,000,000 events by default), through the read-side engine's own scratch rebuild, against a bare loop
 * that only reads the same rows in pages through node:sqlite and JSON.parses their data and metadata — the
 * least any rebuild must do. Both rates are the store's events over the time taken; each runs in a process
 * of its own, so the peak RSS is the rebuild's.
 *
 * The same child first brings a restarted instance's read models up to date on that store (its projections
 * catch up live from where the generating app left them, i.e. over nearly all of it) and reports that too;
 * the caught-up data directory is what the growth benchmark starts on.
 */

/** Events per page of the bare loop: the engine's own page size. */
const PAGE = 1_000;

export interface ReadLoopReady {
  events: number;
  seconds: number;
}

export const readLoop: Role<{ file: string }, ReadLoopReady> = {
  async start({ file }) {
    const db = new DatabaseSync(file, { readOnly: true });
    const page = db.prepare('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?');
    let events = 0;
    let checksum = 0;
    const { seconds: took } = await seconds(async () => {
      for (let after = 0; ; ) {
        const rows = page.all(after, PAGE) as { position: number; data: string; metadata: string }[];
        for (const row of rows) {
          const data = JSON.parse(row.data) as object;
          const metadata = JSON.parse(row.metadata) as object;
          // Touch the parsed values, so the parse cannot be optimised away.
          checksum += Object.keys(data).length + Object.keys(metadata).length;
        }
        events += rows.length;
        if (rows.length < PAGE) break;
        after = rows[rows.length - 1].position;
      }
    });
    db.close();
    if (checksum === 0 && events > 0) throw new Error('parsed nothing');
    return { ready: { events, seconds: took }, handlers: {} };
  },
};

export interface RebuildReady {
  /** Events in the store (its head position). */
  events: number;
  /** `parked`: events the live consumers could not handle — a copy that does not fold cleanly would show here. */
  catchUp: { seconds: number; from: number; caughtUp: boolean; parked: number };
  rebuild: { seconds: number; events: number; projections: number; failed: number };
  rss: { beforeMib: number; peakSampledMib: number; maxMib: number };
}

/** The consumers this build has that act on events (not projections), from a throwaway app's engine. */
async function reactorNames(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'towline-bench-consumers-'));
  try {
    const app = await createApp(loadConfig(benchEnv(dir)));
    const names = app.get(ReadSideRunner).status().filter((c) => c.kind === 'reactor').map((c) => c.name);
    await app.close();
    return names;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function copyDataDir(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const file of readdirSync(from)) {
    if (file.endsWith('.db') || file.endsWith('.db-wal') || file === 'master.key') copyFileSync(join(from, file), join(to, file));
  }
}

export const rebuildRole: Role<{ from: string; workDir: string }, RebuildReady> = {
  async start({ from, workDir }) {
    copyDataDir(from, workDir);
    const store = new SqliteEventStore(join(workDir, 'towline.db'));
    const head = await store.headPosition();
    await store.close();
    if (!head) throw new Error('The replay store is empty');

    // The copies carry everything the reactors did in the template (security events, deliveries, triage
    // steps), so they are marked as having seen the whole log, as on the instance that produced those
    // events; replaying them would redo side effects under ids that do not match the copies'. Projections
    // have no side effects: they catch up from where the generating app left them.
    const readModels = new ReadModelDatabase(workDir);
    for (const name of await reactorNames()) {
      const stored = readModels.checkpoint(name);
      if (!stored || comparePositions(stored, head) < 0) readModels.storeCheckpoint(name, head);
    }
    const from0 = lowestCheckpoint(readModels);
    readModels.close();

    const started = Date.now();
    const app = await createApp(loadConfig(benchEnv(workDir)));
    const runner = app.get(ReadSideRunner);
    const caughtUp = await waitForHead(runner, app.get<symbol, EventStore>(EVENT_STORE), 30 * 60_000);
    const parked = runner.status().reduce((n, c) => n + c.parked, 0);
    const catchUp = { seconds: (Date.now() - started) / 1000, from: from0, caughtUp: caughtUp.caughtUp, parked };

    globalThis.gc?.();
    const beforeMib = mib(process.memoryUsage().rss);
    let peak = beforeMib;
    const sampler = setInterval(() => (peak = Math.max(peak, mib(process.memoryUsage.rss()))), 20);
    const { result: rebuilt, seconds: took } = await seconds(() => rebuildEveryProjection(runner));
    clearInterval(sampler);
    peak = Math.max(peak, mib(process.memoryUsage.rss()));
    const maxMib = peakRssMib();
    const failed = rebuilt.projections.reduce((n, p) => n + p.failed, 0);
    rebuilt.database.close();

    return {
      ready: {
        events: Number(head.commit),
        catchUp,
        rebuild: { seconds: took, events: rebuilt.events, projections: rebuilt.projections.length, failed },
        rss: { beforeMib, peakSampledMib: peak, maxMib },
      },
      handlers: { stop: () => app.close() },
    };
  },
};

/** The engine's scratch rebuild of every projection from position zero to the end of the log. */
const rebuildEveryProjection = (runner: ReadSideRunner) => runner.rebuild();

function lowestCheckpoint(readModels: ReadModelDatabase): number {
  const rows = readModels.db.prepare('SELECT consumer FROM checkpoints').all() as { consumer: string }[];
  const positions = rows.map((r) => readModels.checkpoint(r.consumer)).filter((p): p is Position => p !== undefined);
  return positions.length === 0 ? 0 : Number(positions.reduce((a, b) => (comparePositions(a, b) <= 0 ? a : b)).commit);
}

export interface ReplayOutcome {
  figures: Figure[];
  /** A data directory caught up with the replay store (the growth benchmark starts on copies of it); the caller removes it. */
  preparedDir: string;
}

export async function replayBenchmark(): Promise<ReplayOutcome> {
  const store: ReplayStore = await replayStore();
  console.log(
    `    replay store: ${store.events} events, ${store.organisations} organisations, ${store.copies} copies of a ${store.templateEvents}-event template` +
      (store.reused ? ` (reused from ${store.dir}; generated in ${store.generationSeconds.toFixed(0)} s)` : `, generated in ${store.generationSeconds.toFixed(0)} s`),
  );
  const loop = await startChild<ReadLoopReady>('read-loop', { file: join(store.dir, 'towline.db') });
  await loop.stop();
  const preparedDir = mkdtempSync(join(tmpdir(), 'towline-bench-replay-'));
  try {
    const child = await startChild<RebuildReady>('rebuild', { from: store.dir, workDir: preparedDir });
    await child.stop();
    const r = child.ready;
    // Read again once the rebuild is done: whichever of the two loops met the file in the page cache is the
    // baseline (the faster), so a cold first read never flatters the ratio.
    const again = await startChild<ReadLoopReady>('read-loop', { file: join(store.dir, 'towline.db') });
    await again.stop();
    const baseline = Math.max(loop.ready.events / loop.ready.seconds, again.ready.events / again.ready.seconds);
    const failures = r.rebuild.failed > 0 ? `${r.rebuild.failed} events failed in the rebuild` : undefined;
    const catchUpProblem = !r.catchUp.caughtUp ? 'did not catch up within 30 minutes' : r.catchUp.parked > 0 ? `${r.catchUp.parked} events parked` : undefined;
    const figures: Figure[] = [
      compared({
        name: 'replay: rebuild every projection from zero',
        value: r.events / r.rebuild.seconds,
        baseline,
        unit: 'events/s',
        target: 0.3,
        valid: failures === undefined,
        note: failures,
        extra: {
          events: r.events,
          events_handed_to_projections: r.rebuild.events,
          projections: r.rebuild.projections,
          seconds: r.rebuild.seconds,
          baseline_seconds: Math.min(loop.ready.seconds, again.ready.seconds),
          peak_rss_mib: r.rss.peakSampledMib,
          rss_before_mib: r.rss.beforeMib,
          max_rss_mib: r.rss.maxMib,
        },
      }),
      compared({
        name: 'replay: live catch-up of a restarted instance',
        value: (r.events - r.catchUp.from) / r.catchUp.seconds,
        baseline,
        unit: 'events/s',
        valid: catchUpProblem === undefined,
        note: catchUpProblem,
        extra: { events: r.events - r.catchUp.from, seconds: r.catchUp.seconds, parked: r.catchUp.parked },
      }),
      {
        name: 'replay: store generation (direct appends through the port)',
        value: store.events / store.generationSeconds,
        unit: 'events/s',
        extra: { events: store.events, organisations: store.organisations, seconds: store.generationSeconds, reused: store.reused },
      },
    ];
    return { figures, preparedDir };
  } catch (error) {
    rmSync(preparedDir, { recursive: true, force: true });
    throw error;
  }
}

/** A copy of a prepared data directory for one app to start on (and delete). */
export function copyPrepared(preparedDir: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'towline-bench-growth-'));
  copyDataDir(preparedDir, dir);
  if (!existsSync(join(dir, 'towline.db'))) throw new Error(`No store in ${preparedDir}`);
  return dir;
}
