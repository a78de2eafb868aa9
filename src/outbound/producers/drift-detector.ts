/**
 * Drift detection on one time series (a source's alert count per bucket, or the mean severity of its alerts
 * per bucket), against its own baseline: an exponentially weighted moving mean and variance (EWMA, the
 * incremental form of Finch 2009):
 *
 *   diff = x − mean;  mean ← mean + α·diff;  variance ← (1 − α)·(variance + α·diff²)
 *
 * Each new value is first scored against the baseline as it stood before it: z = (x − mean) / max(σ, σmin).
 * It is drift when the baseline has at least `minSamples` values and |z| ≥ `threshold`. The floor σmin
 * keeps a perfectly steady baseline (σ = 0) from turning the smallest change into an infinite z. Then the
 * value joins the baseline, so a lasting change becomes the new normal instead of alarming forever; and a
 * run of drifting buckets in one direction is reported once, at its onset.
 */
export interface DriftSettings {
  /** Weight of the newest value (0 < α ≤ 1): 0.1 remembers roughly the last 10–20 buckets. */
  alpha: number;
  threshold: number;
  minSamples: number;
  minStddev: number;
}

export interface Baseline {
  mean: number;
  variance: number;
  samples: number;
  /** The direction of the drift the previous value was in, so a run is reported once. */
  drifting: 'up' | 'down' | null;
}

export interface Observation {
  baseline: Baseline;
  /** null until the baseline has any value. */
  z: number | null;
  mean: number;
  stddev: number;
  /** Set when this value starts a drift (not when it continues one). */
  drift: 'up' | 'down' | null;
}

export const emptyBaseline = (): Baseline => ({ mean: 0, variance: 0, samples: 0, drifting: null });

export function observe(baseline: Baseline, value: number, settings: DriftSettings): Observation {
  if (baseline.samples === 0) {
    return { baseline: { mean: value, variance: 0, samples: 1, drifting: null }, z: null, mean: value, stddev: 0, drift: null };
  }
  const stddev = Math.sqrt(baseline.variance);
  const z = (value - baseline.mean) / Math.max(stddev, settings.minStddev);
  const direction = baseline.samples >= settings.minSamples && Math.abs(z) >= settings.threshold ? (z > 0 ? 'up' : 'down') : null;
  const diff = value - baseline.mean;
  const next: Baseline = {
    mean: baseline.mean + settings.alpha * diff,
    variance: (1 - settings.alpha) * (baseline.variance + settings.alpha * diff * diff),
    samples: baseline.samples + 1,
    drifting: direction,
  };
  return { baseline: next, z, mean: baseline.mean, stddev, drift: direction !== null && direction !== baseline.drifting ? direction : null };
}
