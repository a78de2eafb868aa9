import type { IEvent } from '@nestjs/cqrs';
import { describe, expect, it } from 'vitest';
import { decideAttempt, decideCancel, decideClaim, decideExpiry, decideRedelivery, Delivery, type AttemptResult, type DeliveryState } from './delivery.aggregate';
import { DeliveryAttempted, DeliveryFailed, DeliveryRetryScheduled, DeliveryScheduled, DeliverySucceeded } from './events/delivery.events';

const now = new Date('2026-01-01T00:00:00Z');
const scheduled = new DeliveryScheduled('d', 'o', 'w', 'e', 'finding.created', null, 'securityEvent-o', '0', 1, now.toISOString());
const DEADLINE_MS = 3_600_000;
const fold = (events: IEvent[]) => events.reduce(Delivery.evolve, Delivery.initial());

function result(dueAttempt: number, outcome: 'ok' | 'retry' | 'fatal'): AttemptResult {
  return {
    dueAttempt,
    succeeded: outcome === 'ok',
    retryable: outcome === 'retry',
    backPressureMs: null,
    record: {
      startedAt: now.toISOString(),
      durationMs: 5,
      request: { digest: 'sha256:x', bytes: 1, format: 'envelope', secretIds: [] },
      response: { status: outcome === 'ok' ? 200 : 500, headers: {}, body: null, bodyTruncated: false },
      errorClass: outcome === 'ok' ? null : 'server_error',
      error: null,
    },
    delay: (retry) => ({ delayMs: [100, 200, 400][retry], basis: 'backoff' }),
  };
}

/** Runs attempts until the delivery is no longer due, recording what each decided. */
function run(outcomes: ('ok' | 'retry' | 'fatal')[], start: IEvent[] = [scheduled]): { state: DeliveryState; events: IEvent[] } {
  const events = [...start];
  for (const outcome of outcomes) {
    const state = fold(events);
    events.push(...decideAttempt(state, 'd', result(state.dueAttempt!, outcome), 3, DEADLINE_MS, now));
  }
  return { state: fold(events), events };
}

describe('the delivery decider', () => {
  it('retries on the schedule three times, then dead-letters: four attempts in all', () => {
    const { state, events } = run(['retry', 'retry', 'retry', 'retry']);
    expect(events.filter((e) => e instanceof DeliveryRetryScheduled).map((e) => (e as DeliveryRetryScheduled).delayMs)).toEqual([100, 200, 400]);
    expect(events.at(-1)).toBeInstanceOf(DeliveryFailed);
    expect(events.at(-1)).toMatchObject({ reason: 'retries_exhausted', attempts: 4 });
    expect(state).toMatchObject({ status: 'failed', attempts: 4, dueAttempt: null });
  });

  it('succeeds on the third attempt', () => {
    const { state, events } = run(['retry', 'retry', 'ok']);
    expect(events.at(-1)).toBeInstanceOf(DeliverySucceeded);
    expect(state).toMatchObject({ status: 'succeeded', attempts: 3 });
  });

  it('dead-letters at once an answer that retrying cannot change', () => {
    expect(run(['fatal']).state).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('records a stale attempt without letting it move the delivery', () => {
    const { events } = run(['retry']);
    const state = fold(events);
    const stale = decideAttempt(state, 'd', result(1, 'ok'), 3, DEADLINE_MS, now);
    expect(stale).toHaveLength(1);
    expect(stale[0]).toBeInstanceOf(DeliveryAttempted);
    expect(fold([...events, ...stale])).toMatchObject({ status: 'retrying', attempts: 2, dueAttempt: 2 });
  });

  it('redelivers a finished delivery with a fresh retry budget, continuing the attempt count', () => {
    const failed = run(['fatal']).events;
    expect(() => decideRedelivery(fold([scheduled]), 'd', 'manual', now)).toThrow(expect.objectContaining({ code: 'delivery_in_progress' }));
    const again = [...failed, ...decideRedelivery(fold(failed), 'd', 'manual', now)];
    expect(fold(again)).toMatchObject({ status: 'pending', dueAttempt: 2, roundStart: 1 });
    const { state } = run(['retry', 'retry', 'retry', 'retry'], again);
    expect(state).toMatchObject({ status: 'failed', attempts: 5 });
  });

  it('cancels only a delivery still to be made', () => {
    expect(decideCancel(fold([scheduled]), 'd', 'webhook_deleted', now)).toHaveLength(1);
    expect(decideCancel(run(['ok']).state, 'd', 'webhook_deleted', now)).toEqual([]);
  });

  it('waits out back-pressure without using up a retry or counting as a failure of the round', () => {
    const events: IEvent[] = [scheduled];
    const pushBack = (retryAfterMs: number) => {
      const state = fold(events);
      events.push(...decideAttempt(state, 'd', { ...result(state.dueAttempt!, 'retry'), backPressureMs: retryAfterMs }, 3, DEADLINE_MS, now));
    };
    for (let i = 0; i < 5; i++) pushBack(1_000);
    expect(events.filter((e) => e instanceof DeliveryRetryScheduled).map((e) => (e as DeliveryRetryScheduled).basis)).toEqual(Array(5).fill('back_pressure'));
    expect(events.filter((e) => e instanceof DeliveryAttempted).every((e) => (e as DeliveryAttempted).backPressure === true)).toBe(true);
    // Five deferrals later the round still has all three retries.
    const { events: rest } = run(['retry', 'retry', 'retry', 'retry'], events);
    expect(rest.filter((e) => e instanceof DeliveryRetryScheduled && e.basis === 'backoff')).toHaveLength(3);
    expect(rest.at(-1)).toMatchObject({ reason: 'retries_exhausted', attempts: 9 });
  });

  it('dead-letters by the wall-clock deadline from the first due time, whatever the waits', () => {
    const state = fold([scheduled]);
    const beyond = decideAttempt(state, 'd', { ...result(1, 'retry'), backPressureMs: DEADLINE_MS + 1 }, 3, DEADLINE_MS, now);
    expect(beyond.at(-1)).toMatchObject({ reason: 'retries_exhausted', lastError: 'deadline_passed' });
    const late = new Date(now.getTime() + DEADLINE_MS - 50);
    const retry = decideAttempt(state, 'd', result(1, 'retry'), 3, DEADLINE_MS, late);
    expect(retry.at(-1)).toBeInstanceOf(DeliveryFailed);
    expect(decideExpiry(state, 'd', DEADLINE_MS, late)).toEqual([]);
    expect(decideExpiry(state, 'd', DEADLINE_MS, new Date(now.getTime() + DEADLINE_MS))).toEqual([expect.any(DeliveryFailed)]);
  });

  it('lets one instance claim the due attempt; another takes it over only once the lease has run out', () => {
    const state = fold([scheduled]);
    const lease = new Date(now.getTime() + 60_000);
    const claimed = decideClaim(state, 'd', 1, 'a', lease, now);
    expect(claimed).toHaveLength(1);
    const held = fold([scheduled, ...claimed]);
    expect(decideClaim(held, 'd', 1, 'b', lease, new Date(now.getTime() + 59_000))).toEqual([]);
    expect(decideClaim(held, 'd', 2, 'a', lease, now)).toEqual([]);
    expect(decideClaim(held, 'd', 1, 'b', lease, new Date(now.getTime() + 60_000))).toHaveLength(1);
    const attempted = fold([scheduled, ...claimed, ...decideAttempt(held, 'd', result(1, 'retry'), 3, DEADLINE_MS, now)]);
    expect(attempted.claim).toBeNull();
  });
});
