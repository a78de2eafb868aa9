import { afterEach, describe, expect, it, vi } from 'vitest';
import { DueTimeScheduler, MAX_TIMER_DELAY_MS } from './due-time-scheduler';

describe('DueTimeScheduler', () => {
  afterEach(() => void vi.useRealTimers());

  it('wakes once at the earliest time asked for; a later request never postpones it', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const runs: number[] = [];
    const scheduler = new DueTimeScheduler(() => runs.push(Date.now()));
    scheduler.wakeAt(1_000_500);
    scheduler.wakeAt(1_000_900);
    scheduler.wakeAt(1_000_200);
    vi.advanceTimersByTime(1_000);
    expect(runs).toEqual([1_000_200]);
  });

  it('arms again after a wake-up, and never runs after stop()', () => {
    vi.useFakeTimers({ now: 0 });
    let runs = 0;
    const scheduler = new DueTimeScheduler(() => {
      runs += 1;
      if (runs < 3) scheduler.wakeAt(Date.now() + 100);
    });
    scheduler.wakeNow();
    vi.advanceTimersByTime(1_000);
    expect(runs).toBe(3);
    scheduler.wakeAt(Date.now() + 10);
    scheduler.stop();
    vi.advanceTimersByTime(1_000);
    expect(runs).toBe(3);
    expect(scheduler.nextWakeAt).toBe(Infinity);
  });

  it('reaches a due time beyond setTimeout’s ceiling by waking at the ceiling', () => {
    vi.useFakeTimers({ now: 0 });
    const due = MAX_TIMER_DELAY_MS * 2;
    const runs: number[] = [];
    const scheduler = new DueTimeScheduler(() => {
      runs.push(Date.now());
      if (Date.now() < due) scheduler.wakeAt(due);
    });
    scheduler.wakeAt(due);
    vi.advanceTimersByTime(due);
    expect(runs).toEqual([MAX_TIMER_DELAY_MS, due]);
  });

  it('ignores a time that is not a number', () => {
    vi.useFakeTimers({ now: 0 });
    let runs = 0;
    const scheduler = new DueTimeScheduler(() => (runs += 1));
    scheduler.wakeAt(Number.NaN);
    scheduler.wakeAt(Infinity);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS + 1);
    expect(runs).toBe(0);
  });
});
