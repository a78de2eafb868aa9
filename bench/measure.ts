/**
 * What every benchmark hands back to bench/run.ts, and the little arithmetic they share. A figure is a
 * ratio against a baseline measured in the same invocation: absolute numbers move with the machine (two
 * shared cores here), ratios are what to compare between runs and commits.
 */

export type Extra = Record<string, number | string | boolean | null>;

/**
 * One measured figure. Comparisons carry `baseline` (same unit, same invocation) and `ratio` = value /
 * baseline; a figure without a baseline (a latency, a lag, a count) is context for the ones that have one.
 */
export interface Figure {
  /** Unique within a run, and stable across runs: results are compared by it. */
  name: string;
  value: number;
  unit: string;
  baseline?: number | null;
  ratio?: number | null;
  /** Whether a higher or a lower ratio is better (default higher); decides how `target` is read. */
  better?: 'higher' | 'lower';
  /** The ratio to reach: at least (higher) or at most (lower). Absent: reported, not judged. */
  target?: number | null;
  /** False when a precondition of the measurement failed (non-202 answers, read side not caught up in time). */
  valid?: boolean;
  /** Valid, and the target (if any) met. */
  ok?: boolean;
  /** Why a figure is invalid, or anything else worth a line. */
  note?: string;
  /** Further numbers: p50/p99 in ms, RSS in MiB, counts, durations. */
  extra?: Extra;
}

/** A comparison figure, with ratio and ok derived from the rest. */
export function compared(f: Omit<Figure, 'ratio' | 'ok'> & { baseline: number }): Figure {
  const better = f.better ?? 'higher';
  const valid = f.valid ?? true;
  const ratio = f.baseline === 0 ? null : f.value / f.baseline;
  const met = f.target === undefined || f.target === null || (ratio !== null && (better === 'higher' ? ratio >= f.target : ratio <= f.target));
  return { ...f, ratio, better, valid, ok: valid && met };
}

/** A benchmark that could not run at all still leaves a line in the results saying so. */
export function failed(name: string, error: unknown): Figure {
  return { name, value: 0, unit: '', valid: false, ok: false, note: `failed: ${error instanceof Error ? error.message : String(error)}` };
}

export async function seconds<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const start = process.hrtime.bigint();
  const result = await work();
  return { result, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

export const mib = (bytes: number) => bytes / 1024 / 1024;

/** process.resourceUsage().maxRSS is in KiB. */
export const peakRssMib = () => process.resourceUsage().maxRSS / 1024;

/** Positive integer from the environment, or the default (a typo fails loudly instead of running a 0-size benchmark). */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return value;
}

const fmt = (n: number | null | undefined, digits = 0) => (n === null || n === undefined ? '–' : n.toFixed(digits));

/** One figure as console lines, as soon as it is measured. */
export function printFigure(f: Figure): void {
  const verdict = f.valid === false ? 'INVALID' : f.target === undefined || f.target === null ? '' : f.ok ? 'ok' : 'MISSED';
  const target = f.target === undefined || f.target === null ? '' : ` (target ${f.better === 'lower' ? '≤' : '≥'} ${f.target})`;
  const value = (n: number) => fmt(n, Math.abs(n) < 100 ? 2 : 0);
  console.log(`  ${f.name}`);
  console.log(
    `    ${value(f.value)} ${f.unit}` +
      (f.baseline === undefined || f.baseline === null ? '' : ` vs baseline ${value(f.baseline)} ${f.unit}`) +
      (f.ratio === undefined || f.ratio === null ? '' : `  ratio ${fmt(f.ratio, 2)}x${target}`) +
      (verdict ? `  ${verdict}` : ''),
  );
  if (f.extra && Object.keys(f.extra).length > 0) {
    console.log(`    ${Object.entries(f.extra).map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v, Number.isInteger(v) ? 0 : 2) : String(v)}`).join('  ')}`);
  }
  if (f.note) console.log(`    note: ${f.note}`);
}
