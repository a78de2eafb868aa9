import { describe, expect, it } from 'vitest';
import { allowance, circuitOf } from './circuit-breaker';

const settings = { threshold: 3, cooldownMs: 1_000 };

describe('the circuit breaker', () => {
  it('is closed below the threshold, open for the cool-down after it, then half-open', () => {
    expect(circuitOf({ consecutiveFailures: 2, lastFailureAt: 5_000 }, settings, 5_001)).toEqual({ state: 'closed', failuresLeft: 1 });
    expect(circuitOf({ consecutiveFailures: 3, lastFailureAt: 5_000 }, settings, 5_500)).toEqual({ state: 'open', until: 6_000 });
    expect(circuitOf({ consecutiveFailures: 7, lastFailureAt: 5_000 }, settings, 6_000)).toEqual({ state: 'half_open' });
  });

  it('lets the lane fill when closed, nothing through when open, and one trial at a time when half-open', () => {
    expect(allowance({ state: 'closed', failuresLeft: 5 }, 1, 4)).toBe(3);
    expect(allowance({ state: 'closed', failuresLeft: 5 }, 5, 4)).toBe(0);
    expect(allowance({ state: 'open', until: 1 }, 0, 4)).toBe(0);
    expect(allowance({ state: 'half_open' }, 0, 4)).toBe(1);
    expect(allowance({ state: 'half_open' }, 1, 4)).toBe(0);
  });

  it('has no more attempts in flight than failures are left before the threshold, so none fails past it', () => {
    const failing = (consecutiveFailures: number) => circuitOf({ consecutiveFailures, lastFailureAt: 5_000 }, settings, 5_001);
    expect(allowance(failing(0), 0, 4)).toBe(3);
    expect(allowance(failing(1), 1, 4)).toBe(1);
    expect(allowance(failing(2), 0, 4)).toBe(1);
    expect(allowance(failing(2), 1, 4)).toBe(0);
  });
});
