import { rmSync } from 'node:fs';
import { appendBenchmark } from './append.bench';
import { auditBenchmark } from './audit.bench';
import { writeChart } from './chart';
import { growthBenchmark } from './growth.bench';
import { inboundBenchmark } from './inbound.bench';
import { failed, printFigure, type Figure } from './measure';
import { outboundBenchmark } from './outbound.bench';
import { outboundFairnessBenchmark } from './outbound-fairness.bench';
import { replayBenchmark } from './replay.bench';
import { benchEnv } from './replay-store';
import { describeRun, markdownTable, writeResults } from './results';

/**
 * `npm run bench`: every benchmark measures Towline and its baseline in this invocation and reports the
 * ratio — absolute numbers move with the machine, ratios are what to compare between runs and commits.
 * Results go to bench/results/<date>.json and bench/results/chart.svg; the markdown table printed at the
 * end is the one in README's Benchmarks section. BENCH_ONLY=inbound,replay (names below) runs a subset
 * (written to <date>.partial.json, chart untouched); growth needs replay's store and brings it along.
 * Sizes: README.
 */
const ALL = ['append', 'inbound', 'outbound', 'outbound-fairness', 'replay', 'growth', 'audit'] as const;
type Name = (typeof ALL)[number];

function selected(): Name[] {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  if (!only) return [...ALL];
  const unknown = only.filter((name) => !(ALL as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown benchmark(s) ${unknown.join(', ')}; known: ${ALL.join(', ')}`);
  if (only.includes('growth') && !only.includes('replay')) only.push('replay');
  return ALL.filter((name) => only.includes(name));
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const names = selected();
  const limits = Object.entries(benchEnv('')).filter(([key]) => key.includes('RATE_LIMIT'));
  console.log(`Towline under test runs with ${limits.map(([key, value]) => `${key}=${value}`).join(' ')} (0: off; a benchmark measures what the app can take)`);
  const figures: Figure[] = [];
  let preparedDir: string | undefined;
  let storeEvents = 0;

  const steps: Record<Name, () => Promise<Figure[]>> = {
    append: appendBenchmark,
    inbound: inboundBenchmark,
    // Written beside this suite by the outbound work; it follows the same Figure contract (measure.ts).
    outbound: outboundBenchmark,
    'outbound-fairness': outboundFairnessBenchmark,
    replay: async () => {
      const outcome = await replayBenchmark();
      preparedDir = outcome.preparedDir;
      storeEvents = Number(outcome.figures[0]?.extra?.events ?? 0);
      return outcome.figures;
    },
    growth: async () => {
      if (!preparedDir) throw new Error('the replay benchmark did not prepare a store');
      return growthBenchmark(preparedDir, storeEvents);
    },
    audit: auditBenchmark,
  };

  try {
    for (const name of names) {
      console.log(`\n${name}`);
      const started = Date.now();
      let measured: Figure[];
      try {
        measured = await steps[name]();
      } catch (error) {
        // One benchmark failing still leaves the others' figures, and says so in the results.
        console.error(error);
        measured = [failed(name, error)];
      }
      measured.forEach(printFigure);
      console.log(`  (${((Date.now() - started) / 1000).toFixed(0)} s)`);
      figures.push(...measured);
    }
  } finally {
    if (preparedDir) rmSync(preparedDir, { recursive: true, force: true });
  }

  const results = describeRun(startedAt, names, figures);
  // The chart is of whole runs: a partial one leaves it (and the day's whole results) as they are.
  const partial = names.length < ALL.length;
  console.log(`\nwrote ${writeResults(results, partial)}${partial ? '' : ` and ${writeChart(results)}`}\n`);
  console.log(markdownTable(results));
  const invalid = figures.filter((f) => f.valid === false);
  if (invalid.length > 0) {
    console.error(`\n${invalid.length} figure(s) did not count: ${invalid.map((f) => f.name).join('; ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
