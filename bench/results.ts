import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import type { Figure } from './measure';

/** Where results live in the repository (this file runs from dist/bench/). */
export const RESULTS_DIR = resolve(__dirname, '..', '..', 'bench', 'results');

export interface Results {
  date: string;
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; platform: string; release: string; node: string };
  git: { commit: string | null; dirty: boolean | null };
  /** The BENCH_* variables this run was sized with (unset ones take the defaults in README). */
  settings: Record<string, string>;
  /** The benchmarks run (BENCH_ONLY may leave some out). */
  benchmarks: string[];
  figures: Figure[];
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: resolve(__dirname, '..', '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function describeRun(startedAt: Date, benchmarks: string[], figures: Figure[]): Results {
  const status = git(['status', '--porcelain']);
  return {
    date: startedAt.toISOString().slice(0, 10),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      platform: process.platform,
      release: release(),
      node: process.version,
    },
    git: { commit: git(['rev-parse', 'HEAD']), dirty: status === null ? null : status.length > 0 },
    settings: Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('BENCH_')) as [string, string][]),
    benchmarks,
    figures,
  };
}

/**
 * bench/results/<YYYY-MM-DD>.json: a later run on the same day replaces the earlier one. A partial run
 * (BENCH_ONLY) writes <YYYY-MM-DD>.partial.json instead, so it never replaces a whole run's figures.
 */
export function writeResults(results: Results, partial: boolean): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${results.date}${partial ? '.partial' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

/** The latest whole run's results. */
export function latestResults(): Results {
  const files = readdirSync(RESULTS_DIR).filter((f) => /^\d{4}-\d{2}-\d{2}\.json$/.test(f)).sort();
  if (files.length === 0) throw new Error(`No results in ${RESULTS_DIR}: run npm run bench first`);
  return JSON.parse(readFileSync(join(RESULTS_DIR, files[files.length - 1]), 'utf8')) as Results;
}

const number = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));
const has = (n: number | null | undefined): n is number => n !== null && n !== undefined && Number.isFinite(n);

export function verdict(f: Figure): string {
  if (f.valid === false) return 'invalid';
  if (!has(f.target)) return '';
  return f.ok ? 'met' : 'missed';
}

/** Only the extras a reader of the table needs; the JSON has them all. */
const DETAIL = /^(p50_ms|p99_ms|baseline_p50_ms|baseline_p99_ms|empty_p99_ms|lag_ms|peak_rss_mib|rss_mib|events|seconds|reused)$/;

/** The README's table of the latest figures (printed by every run, pasted into README.md). */
export function markdownTable(results: Results): string {
  const lines = [
    `Measured ${results.date} on ${results.machine.cpus} × ${results.machine.cpuModel.trim()}, Node ${results.machine.node}, commit ${results.git.commit?.slice(0, 7) ?? 'unknown'}${results.git.dirty ? ' (uncommitted changes)' : ''}.`,
    '',
    '| Benchmark | Towline | Baseline | Ratio | Target | | Details |',
    '| --- | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const f of results.figures) {
    const details = Object.entries(f.extra ?? {})
      .filter(([key]) => DETAIL.test(key))
      .map(([key, value]) => `${key.replace(/_/g, ' ')} ${typeof value === 'number' ? number(value) : String(value)}`)
      .join(', ');
    lines.push(
      `| ${f.name} | ${number(f.value)} ${f.unit} | ${has(f.baseline) ? `${number(f.baseline)} ${f.unit}` : ''} | ${has(f.ratio) ? `${f.ratio.toFixed(2)}×` : ''} | ` +
        `${has(f.target) ? `${f.better === 'lower' ? '≤' : '≥'} ${f.target}` : ''} | ${verdict(f)} | ${[details, f.note].filter(Boolean).join('; ')} |`,
    );
  }
  return lines.join('\n');
}
