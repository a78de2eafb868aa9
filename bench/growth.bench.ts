import { runTowline, invalidity, latencyExtra } from './inbound.bench';
import { compared, type Figure } from './measure';
import { copyPrepared } from './replay.bench';

/**
 * Growth: the inbound sync benchmark's load on an app started on a copy of the replay store (caught up:
 * replay.bench.ts prepares it) against the same load on an empty store, measured one after the other in
 * this invocation. The source is new in the default organisation in both runs, so the load itself is the
 * same; what differs is everything the app keeps about the 1,000,000 events before it. Its p99 and its RSS
 * should not grow by more than a fifth.
 */
export async function growthBenchmark(preparedDir: string, events: number): Promise<Figure[]> {
  const empty = await runTowline({ mode: 'sync' });
  const loaded = await runTowline({ mode: 'sync', dataDir: copyPrepared(preparedDir) });
  const problems = [invalidity(empty, true), invalidity(loaded, true)].filter(Boolean).join('; ') || undefined;
  const valid = problems === undefined;
  return [
    compared({
      name: 'growth: inbound sync p99, big store vs empty',
      value: loaded.load.p99,
      baseline: empty.load.p99,
      unit: 'ms',
      better: 'lower',
      target: 1.2,
      valid,
      note: problems,
      extra: { events, ...latencyExtra('', loaded.load), ...latencyExtra('empty_', empty.load), lag_ms: loaded.lag.ms, empty_lag_ms: empty.lag.ms },
    }),
    compared({
      name: 'growth: RSS after the load, big store vs empty',
      value: loaded.stats.rssMib,
      baseline: empty.stats.rssMib,
      unit: 'MiB',
      better: 'lower',
      target: 1.2,
      valid,
      extra: { peak_rss_mib: loaded.stats.peakRssMib, empty_peak_rss_mib: empty.stats.peakRssMib, startup_catch_up_ms: loaded.startupCatchUp.ms },
    }),
    compared({
      name: 'growth: inbound sync throughput, big store vs empty',
      value: loaded.load.perSecond,
      baseline: empty.load.perSecond,
      unit: 'req/s',
      valid,
    }),
  ];
}
