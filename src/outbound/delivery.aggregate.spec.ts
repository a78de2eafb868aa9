import type { IEvent } from '@nestjs/cqrs';
import { describe, expect, it } from 'vitest';
import { decideAttempt, decideCancel, decideRedelivery, Delivery, type AttemptResult, type DeliveryState } from './delivery.aggregate';
import { DeliveryAttempted, DeliveryFailed, DeliveryRetryScheduled, DeliveryScheduled, DeliverySucceeded } from './events/delivery.events';

const now = new Date('2026-01-01T00:00:00Z');
const scheduled = new DeliveryScheduled('d', 'o', 'w', 'e', 'finding.created', null, 'securityEvent-o', '0', 1, now.toISOString());
const fold = (events: IEvent[]) => events.reduce(Delivery.evolve, Delivery.initial());

function result(dueAttempt: number, outcome: 'ok' | 'retry' | 'fatal'): AttemptResult {
  return {
    dueAttempt,
    succeeded: outcome === 'ok',
    retryable: outcome === 'retry',
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
    events.push(...decideAttempt(state, 'd', result(state.dueAttempt!, outcome), 3, now));
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
    const stale = decideAttempt(state, 'd', result(1, 'ok'), 3, now);
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
});
