import { ALERT_QUEUE_REACTOR } from '../src/inbound/receiving/alert-queue.reactor';
import { INCIDENTS_PROJECTION } from '../src/incidents/projections/incidents.projection';
import { startChild } from './child';
import type { ProcessStats, ServerReady, TowlineOptions, TowlineReady } from './inbound-servers';
import { postAlerts, type LoadResult } from './load';
import { compared, envInt, type Figure } from './measure';
import type { CaughtUp } from './read-side';
import { api } from './scenario';
import type { LogAppend, FloorReady } from './floors';

/**
 * Inbound: signed, distinct alerts (each a new incident) posted to POST /api/webhooks/:source of a real
 * Towline by autocannon, BENCH_CONNECTIONS (32) connections for BENCH_DURATION (10) seconds, against the
 * baseline server (inbound-servers.ts) under the same load, one after the other, each in its own process.
 * Every answer must be a 202. A Towline run counts only if the read side has caught up with the store
 * within 5 s of the end of the load (the lag).
 */
export const DURATION = envInt('BENCH_DURATION', 10);
export const CONNECTIONS = envInt('BENCH_CONNECTIONS', 32);
/** Seconds of load before each measured run, so that neither side is measured while its JIT warms up. */
const WARMUP = envInt('BENCH_WARMUP', 2);
const LAG_LIMIT_MS = 5_000;
const SOURCE = 'bench';

export interface ServerRun {
  load: LoadResult;
  stats: ProcessStats;
  /** CPU ms the server used per answered request, from the start of the measured load until it had caught up. */
  cpuMsPerRequest: number;
}

const answered = (load: LoadResult) => Object.values(load.statusCodes).reduce((n, c) => n + c, 0);

export interface TowlineRun extends ServerRun {
  /** Every consumer at the head, from the end of the load. */
  lag: CaughtUp;
  /** Queued mode: the queue worker, then the incident list, at the head. */
  visible?: CaughtUp;
  /** Incidents of the source, as the statistics endpoint counts them once everything has caught up. */
  incidents: number;
  startupCatchUp: CaughtUp;
  /** What the last alert wrote to the log (sync mode). */
  alert?: LogAppend[];
}

export async function runBaseline(): Promise<ServerRun> {
  const child = await startChild<ServerReady>('baseline', {});
  try {
    await postAlerts(child.ready.url, SOURCE, WARMUP, CONNECTIONS);
    const start = await child.call<ProcessStats>('stats');
    const load = await postAlerts(child.ready.url, SOURCE, DURATION, CONNECTIONS);
    const stats = await child.call<ProcessStats>('stats');
    return { load, stats, cpuMsPerRequest: (stats.cpuMs - start.cpuMs) / answered(load) };
  } finally {
    await child.stop();
  }
}

export async function runTowline(options: Omit<TowlineOptions, 'source'>): Promise<TowlineRun> {
  const child = await startChild<TowlineReady>('towline', { ...options, source: SOURCE });
  try {
    // The warm-up's incidents are part of the store the measured run writes to; its backlog (queued mode)
    // is worked off before the measured run starts.
    await postAlerts(child.ready.url, SOURCE, WARMUP, CONNECTIONS);
    await child.call<CaughtUp>('caughtUp', { timeoutMs: 10 * 60_000 });
    const before = await incidents(child.ready.url);
    const start = await child.call<ProcessStats>('stats');
    const load = await postAlerts(child.ready.url, SOURCE, DURATION, CONNECTIONS);
    const visible =
      options.mode === 'async'
        ? await child.call<CaughtUp>('pipeline', { names: [ALERT_QUEUE_REACTOR, INCIDENTS_PROJECTION], timeoutMs: 10 * 60_000 })
        : undefined;
    const lag = await child.call<CaughtUp>('caughtUp', { timeoutMs: 10 * 60_000 });
    const stats = await child.call<ProcessStats>('stats');
    const cpuMsPerRequest = (stats.cpuMs - start.cpuMs) / answered(load);
    const alert = options.mode === 'sync' ? await child.call<LogAppend[]>('lastAlert') : undefined;
    return { load, stats, cpuMsPerRequest, lag, visible, incidents: (await incidents(child.ready.url)) - before, startupCatchUp: child.ready.startupCatchUp, alert };
  } finally {
    await child.stop();
  }
}

async function incidents(url: string): Promise<number> {
  const stats = (await api(url).call('GET', `/api/incidents/statistics?source=${SOURCE}`)) as { total: number }[];
  return stats.reduce((sum, s) => sum + s.total, 0);
}

/** What invalidates a Towline run, or undefined. */
export function invalidity(run: TowlineRun, checkLag: boolean): string | undefined {
  const problems: string[] = [];
  if (run.load.failures > 0) problems.push(`${run.load.failures} answers were not 202 (${JSON.stringify(run.load.statusCodes)})`);
  if (checkLag && !(run.lag.caughtUp && run.lag.ms <= LAG_LIMIT_MS)) problems.push(`the read side took ${(run.lag.ms / 1000).toFixed(1)} s to catch up (limit 5 s)`);
  const parked = Object.entries(run.stats.parked ?? {});
  if (parked.length > 0) problems.push(`the read side parked events (${parked.map(([name, n]) => `${name}: ${n}`).join(', ')})`);
  if (run.incidents < run.load.accepted + run.load.queued) problems.push(`only ${run.incidents} incidents for ${run.load.accepted + run.load.queued} alerts`);
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/** The store floor (floors.ts) for the alert's appends, under the load's concurrency and duration. */
async function runStoreFloor(appends: LogAppend[]): Promise<FloorReady> {
  const child = await startChild<FloorReady>('store-floor', { appends, seconds: DURATION, warmup: WARMUP, writers: CONNECTIONS });
  await child.stop();
  return child.ready;
}

/** The queued floor (inbound-servers.ts: the baseline server appending the receipt) under the same load. */
async function runQueuedFloor(receipt: LogAppend): Promise<LoadResult> {
  const child = await startChild<ServerReady>('baseline', { receipt });
  try {
    await postAlerts(child.ready.url, SOURCE, WARMUP, CONNECTIONS);
    return await postAlerts(child.ready.url, SOURCE, DURATION, CONNECTIONS);
  } finally {
    await child.stop();
  }
}

export const latencyExtra = (prefix: string, load: LoadResult) => ({ [`${prefix}p50_ms`]: load.p50, [`${prefix}p99_ms`]: load.p99 });

export async function inboundBenchmark(): Promise<Figure[]> {
  // The baseline runs before and after Towline and counts as their mean: a machine that got busier or
  // quieter in between (other work on the same two cores) shows as the two disagreeing, noted below.
  const before = await runBaseline();
  const sync = await runTowline({ mode: 'sync' });
  if (!sync.alert) throw new Error('The sync run did not report its last alert');
  // The floors run inside the baselines' bracket too, on what the sync run's last alert wrote.
  const floor = await runStoreFloor(sync.alert);
  const queuedFloor = await runQueuedFloor(sync.alert[0]);
  const eventsPerAlert = sync.alert.reduce((n, a) => n + a.events.length, 0);
  const queued = await runTowline({ mode: 'async' });
  const after = await runBaseline();
  for (const b of [before, after]) {
    if (b.load.failures > 0) throw new Error(`The baseline answered ${b.load.failures} requests with something else than 202`);
  }
  const base = {
    perSecond: (before.load.perSecond + after.load.perSecond) / 2,
    p50: (before.load.p50 + after.load.p50) / 2,
    p99: (before.load.p99 + after.load.p99) / 2,
    rssMib: (before.stats.rssMib + after.stats.rssMib) / 2,
  };
  const drift = Math.abs(before.load.perSecond - after.load.perSecond) / base.perSecond;
  const busy = drift > 0.25 ? `the baseline moved by ${(drift * 100).toFixed(0)}% between before and after: the machine was busier at one time` : undefined;
  const notes = (...parts: (string | undefined)[]) => parts.filter(Boolean).join('; ') || undefined;

  const syncProblem = invalidity(sync, true);
  const queuedProblem = invalidity(queued, false);
  const visibleSeconds = queued.visible ? (queued.visible.at - queued.load.startedAt) / 1000 : NaN;
  const common = { connections: CONNECTIONS, duration_s: DURATION };
  return [
    compared({
      name: 'inbound sync: signed alerts answered 202/s',
      value: sync.load.perSecond,
      baseline: base.perSecond,
      unit: 'req/s',
      target: 0.3,
      valid: syncProblem === undefined,
      note: notes(syncProblem, busy),
      extra: {
        ...latencyExtra('', sync.load),
        baseline_p50_ms: base.p50,
        baseline_p99_ms: base.p99,
        baseline_before: before.load.perSecond,
        baseline_after: after.load.perSecond,
        lag_ms: sync.lag.ms,
        requests: sync.load.statusCodes['202'] ?? 0,
        non_202: sync.load.failures,
        rss_mib: sync.stats.rssMib,
        baseline_rss_mib: base.rssMib,
        cpu_ms_per_alert: sync.cpuMsPerRequest,
        baseline_cpu_ms_per_alert: (before.cpuMsPerRequest + after.cpuMsPerRequest) / 2,
        ...common,
      },
    }),
    compared({
      name: 'inbound sync: p99 latency',
      value: sync.load.p99,
      baseline: base.p99,
      unit: 'ms',
      better: 'lower',
      valid: syncProblem === undefined,
      extra: { p50_ms: sync.load.p50, baseline_p50_ms: base.p50 },
    }),
    compared({
      name: "inbound floor: one alert's events appended through the store port alone",
      value: floor.alerts / floor.seconds,
      baseline: base.perSecond,
      unit: 'alerts/s',
      note: 'no HTTP, parsing or read side: the sync rate cannot pass this',
      extra: {
        events_per_alert: eventsPerAlert,
        appends_per_alert: sync.alert.length,
        cpu_ms_per_alert: floor.cpuMs / floor.alerts,
        writers: CONNECTIONS,
        duration_s: DURATION,
      },
    }),
    {
      name: 'inbound sync: read side caught up after the load (lag)',
      value: sync.lag.ms,
      unit: 'ms',
      valid: sync.lag.caughtUp && sync.lag.ms <= LAG_LIMIT_MS,
      ok: sync.lag.caughtUp && sync.lag.ms <= LAG_LIMIT_MS,
      note: 'a run counts only if this is at most 5000 ms',
    },
    compared({
      name: 'inbound queued: signed alerts answered 202/s',
      value: queued.load.perSecond,
      baseline: base.perSecond,
      unit: 'req/s',
      target: 0.6,
      valid: queuedProblem === undefined,
      note: notes(queuedProblem, busy),
      extra: { ...latencyExtra('', queued.load), queued: queued.load.queued, non_202: queued.load.failures, rss_mib: queued.stats.rssMib, cpu_ms_per_alert: queued.cpuMsPerRequest, ...common },
    }),
    compared({
      name: "inbound queued floor: the baseline server making the alert's receipt durable through the store port",
      value: queuedFloor.perSecond,
      baseline: base.perSecond,
      unit: 'req/s',
      valid: queuedFloor.failures === 0,
      note: 'no framework, parsing or read side: the queued rate cannot pass this',
      extra: { ...latencyExtra('', queuedFloor), ...common },
    }),
    compared({
      name: 'inbound queued: alerts become visible incidents/s (end to end)',
      value: queued.load.queued / visibleSeconds,
      baseline: base.perSecond,
      unit: 'alerts/s',
      valid: queuedProblem === undefined && queued.visible?.caughtUp === true,
      extra: {
        alerts: queued.load.queued,
        incidents: queued.incidents,
        first_request_to_last_incident_s: visibleSeconds,
        backlog_after_load_s: queued.visible ? (queued.visible.at - queued.load.endedAt) / 1000 : null,
        rest_of_read_side_after_ms: queued.lag.ms,
      },
    }),
  ];
}
