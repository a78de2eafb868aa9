import type { IEvent } from '@nestjs/cqrs';
import type { Aggregate } from '../cqrs/aggregate-store';
import { AppError, notFound } from '../http/app-error';
import {
  DeliveryAttemptClaimed,
  DeliveryAttempted,
  DeliveryCancelled,
  DeliveryFailed,
  DeliveryRedeliveryRequested,
  DeliveryRetryScheduled,
  DeliveryScheduled,
  DeliverySucceeded,
  type AttemptRecord,
} from './events/delivery.events';

export type DeliveryStatus = 'pending' | 'retrying' | 'succeeded' | 'failed' | 'cancelled';
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'retrying', 'succeeded', 'failed', 'cancelled'];

export interface DeliveryState {
  exists: boolean;
  organisationId: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  eventStream: string;
  eventRevision: string;
  status: DeliveryStatus;
  /** Attempts recorded so far. */
  attempts: number;
  /** `attempts` when the current round (first delivery or a redelivery) began: the retry budget is per round. */
  roundStart: number;
  /** The attempt that is due (and when), while pending or retrying. */
  dueAttempt: number | null;
  dueAt: string | null;
  /** When the current round's first attempt was due: its wall-clock deadline counts from here. */
  roundStartedAt: string;
  /** Back-pressure waits in the current round: they use up no retry. */
  deferrals: number;
  /** Who holds the due attempt (DeliveryAttemptClaimed) and until when; null when nobody does. */
  claim: { attempt: number; instanceId: string; until: string } | null;
}

export const isActive = (state: DeliveryState) => state.status === 'pending' || state.status === 'retrying';

const finished = (state: DeliveryState, status: DeliveryStatus): DeliveryState => ({ ...state, status, dueAttempt: null, dueAt: null, claim: null });

export const Delivery: Aggregate<DeliveryState> = {
  initial: () => ({
    exists: false,
    organisationId: '',
    webhookId: '',
    eventId: '',
    eventType: '',
    eventStream: '',
    eventRevision: '0',
    status: 'pending',
    attempts: 0,
    roundStart: 0,
    dueAttempt: null,
    dueAt: null,
    roundStartedAt: new Date(0).toISOString(),
    deferrals: 0,
    claim: null,
  }),
  evolve(state: DeliveryState, event: IEvent): DeliveryState {
    if (event instanceof DeliveryScheduled) {
      const { organisationId, webhookId, eventId, eventType, eventStream, eventRevision } = event;
      return {
        ...state,
        exists: true,
        organisationId,
        webhookId,
        eventId,
        eventType,
        eventStream,
        eventRevision,
        dueAttempt: event.attempt,
        dueAt: event.dueAt,
        roundStartedAt: event.dueAt,
      };
    }
    if (event instanceof DeliveryAttemptClaimed) {
      return { ...state, claim: { attempt: event.attempt, instanceId: event.instanceId, until: event.leaseUntil } };
    }
    if (event instanceof DeliveryAttempted) return { ...state, attempts: Math.max(state.attempts, event.attempt), claim: null };
    if (event instanceof DeliveryRetryScheduled) {
      const deferrals = state.deferrals + (event.basis === 'back_pressure' || event.basis === 'interrupted' ? 1 : 0);
      return { ...state, status: 'retrying', dueAttempt: event.attempt, dueAt: event.dueAt, deferrals, claim: null };
    }
    if (event instanceof DeliverySucceeded) return finished(state, 'succeeded');
    if (event instanceof DeliveryFailed) return finished(state, 'failed');
    if (event instanceof DeliveryCancelled) return finished(state, 'cancelled');
    if (event instanceof DeliveryRedeliveryRequested) {
      return {
        ...state,
        status: 'pending',
        roundStart: event.attempt - 1,
        dueAttempt: event.attempt,
        dueAt: event.dueAt,
        roundStartedAt: event.dueAt,
        deferrals: 0,
        claim: null,
      };
    }
    return state;
  },
};

/** What the worker learned from one HTTP attempt, judged (retry-policy.ts). */
export interface AttemptResult {
  /** The due attempt the worker acted on. */
  dueAttempt: number;
  succeeded: boolean;
  retryable: boolean;
  /** The receiver asked to wait this long (429, or 503 with Retry-After): a deferral, not a failure. */
  backPressureMs: number | null;
  /** Cut short by shutdown: recorded (the receiver may have seen it), due again at once, no retry used up. */
  interrupted?: boolean;
  record: AttemptRecord;
  /** Chooses the delay before retry number `retry` (0-based within the round). */
  delay(retry: number): { delayMs: number; basis: 'backoff' | 'retry_after' };
}

/** When the current round must be settled by: its first attempt's due time plus the deadline. */
export const roundDeadline = (state: DeliveryState, deadlineMs: number): number => Date.parse(state.roundStartedAt) + deadlineMs;

/**
 * Records an attempt, always (it happened), and moves the delivery on only if that attempt was still the one
 * due: a delivery that was meanwhile cancelled or redelivered keeps its newer state.
 *
 * A back-pressure answer waits as long as the receiver asked and uses up no retry; a failure retries on the
 * schedule while retries are left. Neither waits past the round's wall-clock deadline (`deadlineMs` from its
 * first attempt's due time): a wait that would end after it is a dead letter now, so a round is settled by
 * its deadline whatever the receiver or the circuit does.
 */
export function decideAttempt(state: DeliveryState, deliveryId: string, result: AttemptResult, retries: number, deadlineMs: number, now: Date): IEvent[] {
  const { organisationId, webhookId } = state;
  const attempt = state.attempts + 1;
  const backPressure = !result.succeeded && (result.backPressureMs !== null || result.interrupted === true);
  const events: IEvent[] = [
    new DeliveryAttempted(deliveryId, organisationId, webhookId, attempt, result.succeeded, result.record, backPressure ? true : undefined),
  ];
  if (!isActive(state) || state.dueAttempt !== result.dueAttempt) return events;
  if (result.succeeded) return [...events, new DeliverySucceeded(deliveryId, organisationId, webhookId, attempt, now.toISOString())];
  const deadline = roundDeadline(state, deadlineMs);
  const wait = (delayMs: number, basis: DeliveryRetryScheduled['basis']): IEvent[] => {
    const dueAt = now.getTime() + delayMs;
    if (dueAt > deadline) {
      return [...events, new DeliveryFailed(deliveryId, organisationId, webhookId, attempt, 'retries_exhausted', 'deadline_passed', now.toISOString())];
    }
    return [...events, new DeliveryRetryScheduled(deliveryId, organisationId, webhookId, attempt + 1, new Date(dueAt).toISOString(), delayMs, basis)];
  };
  if (result.interrupted) return wait(0, 'interrupted');
  if (backPressure) return wait(result.backPressureMs!, 'back_pressure');
  const retry = attempt - state.roundStart - 1 - state.deferrals;
  if (result.retryable && retry < retries) {
    const { delayMs, basis } = result.delay(retry);
    return wait(delayMs, basis);
  }
  const reason = result.retryable ? 'retries_exhausted' : 'not_retryable';
  return [...events, new DeliveryFailed(deliveryId, organisationId, webhookId, attempt, reason, result.record.errorClass, now.toISOString())];
}

/** A round whose deadline has passed while it waited (for an open circuit, say) is a dead letter, unattempted. */
export function decideExpiry(state: DeliveryState, deliveryId: string, deadlineMs: number, now: Date): IEvent[] {
  if (!isActive(state) || now.getTime() < roundDeadline(state, deadlineMs)) return [];
  return [new DeliveryFailed(deliveryId, state.organisationId, state.webhookId, state.attempts, 'retries_exhausted', 'deadline_passed', now.toISOString())];
}

/**
 * Claims the due attempt for `instanceId` until `leaseUntil`, or nothing when it is no longer due or another
 * instance holds it (an expired claim is taken over: its instance died).
 */
export function decideClaim(state: DeliveryState, deliveryId: string, dueAttempt: number, instanceId: string, leaseUntil: Date, now: Date): IEvent[] {
  if (!isActive(state) || state.dueAttempt !== dueAttempt) return [];
  if (state.claim && state.claim.attempt === dueAttempt && state.claim.instanceId !== instanceId && Date.parse(state.claim.until) > now.getTime()) return [];
  return [new DeliveryAttemptClaimed(deliveryId, state.organisationId, state.webhookId, dueAttempt, instanceId, now.toISOString(), leaseUntil.toISOString())];
}

export function decideRedelivery(state: DeliveryState, deliveryId: string, requestedBy: 'manual' | 'recover', now: Date): IEvent[] {
  if (!state.exists) throw notFound('Delivery not found');
  if (isActive(state)) throw new AppError(409, 'delivery_in_progress', 'The delivery is still being attempted');
  return [new DeliveryRedeliveryRequested(deliveryId, state.organisationId, state.webhookId, state.attempts + 1, now.toISOString(), requestedBy)];
}

export function decideCancel(state: DeliveryState, deliveryId: string, reason: DeliveryCancelled['reason'], now: Date): IEvent[] {
  if (!isActive(state)) return [];
  return [new DeliveryCancelled(deliveryId, state.organisationId, state.webhookId, reason, now.toISOString())];
}
