import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyBaseline, observe, type Baseline, type DriftSettings } from './drift-detector';

const settings: DriftSettings = { alpha: 0.1, threshold: 3, minSamples: 8, minStddev: 1 };

function feed(values: number[], baseline: Baseline = emptyBaseline()) {
  const results = [];
  for (const value of values) {
    const observation = observe(baseline, value, settings);
    baseline = observation.baseline;
    results.push(observation);
  }
  return { baseline, results };
}

describe('the EWMA drift detector', () => {
  it('learns a steady series and reports a spike against it, with its z-score', () => {
    const { baseline } = feed([10, 12, 9, 11, 10, 13, 8, 10, 11, 9, 10, 12]);
    expect(baseline.mean).toBeGreaterThan(9);
    expect(baseline.mean).toBeLessThan(12);
    const spike = observe(baseline, 40, settings);
    expect(spike.drift).toBe('up');
    expect(spike.z).toBeGreaterThan(3);
    expect(spike.mean).toBe(baseline.mean);
    const drop = observe(baseline, 0, settings);
    expect(drop.drift).toBe('down');
  });

  it('stays quiet before it has minSamples of baseline', () => {
    const { results } = feed([10, 10, 10, 100]);
    expect(results.every((r) => r.drift === null)).toBe(true);
  });

  it('reports a run of drifting values once, at its onset', () => {
    const { baseline } = feed(Array.from({ length: 20 }, () => 5));
    const { results } = feed([50, 50, 50], baseline);
    expect(results.map((r) => r.drift)).toEqual(['up', null, null]);
  });

  it('never turns a perfectly steady baseline into an infinite z (the σ floor)', () => {
    const { baseline } = feed(Array.from({ length: 20 }, () => 3));
    const next = observe(baseline, 4, settings);
    expect(next.stddev).toBe(0);
    expect(next.z).toBe(1);
    expect(next.drift).toBeNull();
  });

  it('never reports drift while every value stays within threshold × σ-floor of every other', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 49, max: 51 }), { minLength: 30, maxLength: 80 }), (values) => {
        const { results } = feed(values);
        return results.every((r) => r.drift === null);
      }),
    );
  });
});
