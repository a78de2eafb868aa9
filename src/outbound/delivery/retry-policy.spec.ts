import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { judge, parseRetryAfter, retryDelay } from './retry-policy';
import type { HttpOutcome } from './webhook-http.client';

const answer = (status: number, headers: Record<string, string> = {}): HttpOutcome => ({
  status,
  headers,
  body: '',
  bodyTruncated: false,
  durationMs: 1,
  transportError: null,
});

describe('judge', () => {
  it.each([
    [200, true, false, null],
    [204, true, false, null],
    [301, false, false, 'redirect'],
    [307, false, false, 'redirect'],
    [400, false, false, 'client_error'],
    [401, false, false, 'client_error'],
    [404, false, false, 'client_error'],
    [408, false, true, 'timeout'],
    [410, false, false, 'gone'],
    [425, false, true, 'client_error'],
    [429, false, true, 'rate_limited'],
    [500, false, true, 'server_error'],
    [503, false, true, 'server_error'],
    [502, false, true, 'server_error'],
  ] as const)('treats %i as succeeded=%s retryable=%s (%s)', (status, succeeded, retryable, errorClass) => {
    expect(judge(answer(status))).toMatchObject({ succeeded, retryable, errorClass, gone: status === 410 });
  });

  it('retries when no answer came, except for an address the guard refused', () => {
    const failed = (cls: 'timeout' | 'connection' | 'unsafe_address'): HttpOutcome => ({ ...answer(0), status: null, transportError: { class: cls, message: cls } });
    expect(judge(failed('timeout')).retryable).toBe(true);
    expect(judge(failed('connection')).retryable).toBe(true);
    expect(judge(failed('unsafe_address')).retryable).toBe(false);
  });

  it('reads Retry-After as seconds or as an HTTP date, on retryable answers only', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(judge(answer(429, { 'retry-after': '30' }), now).retryAfterMs).toBe(30_000);
    expect(judge(answer(503, { 'retry-after': 'Thu, 01 Jan 2026 00:01:00 GMT' }), now).retryAfterMs).toBe(60_000);
    expect(judge(answer(400, { 'retry-after': '30' }), now).retryAfterMs).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
  });
});

describe('back-pressure', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  it('is a 429 (Retry-After or 5 s) or a 503 with Retry-After, capped; a 503 without it is a plain failure', () => {
    expect(judge(answer(429, { 'retry-after': '1' }), now).backPressureMs).toBe(1_000);
    expect(judge(answer(429), now).backPressureMs).toBe(5_000);
    expect(judge(answer(503, { 'retry-after': '120' }), now, 60_000)).toMatchObject({ backPressureMs: 60_000, errorClass: 'unavailable' });
    expect(judge(answer(503), now).backPressureMs).toBeNull();
    expect(judge(answer(500, { 'retry-after': '5' }), now).backPressureMs).toBeNull();
  });
});

describe('retryDelay', () => {
  const policy = { scheduleMs: [60_000, 600_000, 6_000_000], jitter: 'bounded' as const, retryAfterMaxMs: 3_600_000 };

  it('draws bounded jitter from [0.8 × step, step] and none exactly the step', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (retry, r) => {
        const step = policy.scheduleMs[retry];
        const bounded = retryDelay(policy, retry, null, () => r).delayMs;
        return bounded >= 0.8 * step && bounded <= step && retryDelay({ ...policy, jitter: 'none' }, retry, null).delayMs === step;
      }),
    );
  });

  it('spans at least an hour with the default schedule, even at the shortest draws', () => {
    const shortest = policy.scheduleMs.map((_, retry) => retryDelay(policy, retry, null, () => 0).delayMs).reduce((a, b) => a + b);
    expect(shortest).toBeGreaterThanOrEqual(3_600_000);
  });

  it('honours a longer Retry-After up to its cap, and never retries sooner than the schedule', () => {
    const none = { ...policy, jitter: 'none' as const };
    expect(retryDelay(none, 0, 120_000)).toEqual({ delayMs: 120_000, basis: 'retry_after' });
    expect(retryDelay(none, 0, 1_000)).toEqual({ delayMs: 60_000, basis: 'backoff' });
    expect(retryDelay(none, 0, 86_400_000)).toEqual({ delayMs: 3_600_000, basis: 'retry_after' });
  });
});
