import type { IEvent } from '@nestjs/cqrs';
import type { Aggregate } from '../cqrs/aggregate-store';
import { AppError, notFound } from '../http/app-error';
import {
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
}

export const isActive = (state: DeliveryState) => state.status === 'pending' || state.status === 'retrying';

const finished = (state: DeliveryState, status: DeliveryStatus): DeliveryState => ({ ...state, status, dueAttempt: null, dueAt: null });

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
  }),
  evolve(state: DeliveryState, event: IEvent): DeliveryState {
    if (event instanceof DeliveryScheduled) {
      const { organisationId, webhookId, eventId, eventType, eventStream, eventRevision } = event;
      return { ...state, exists: true, organisationId, webhookId, eventId, eventType, eventStream, eventRevision, dueAttempt: event.attempt, dueAt: event.dueAt };
    }
    if (event instanceof DeliveryAttempted) return { ...state, attempts: Math.max(state.attempts, event.attempt) };
    if (event instanceof DeliveryRetryScheduled) return { ...state, status: 'retrying', dueAttempt: event.attempt, dueAt: event.dueAt };
    if (event instanceof DeliverySucceeded) return finished(state, 'succeeded');
    if (event instanceof DeliveryFailed) return finished(state, 'failed');
    if (event instanceof DeliveryCancelled) return finished(state, 'cancelled');
    if (event instanceof DeliveryRedeliveryRequested) {
      return { ...state, status: 'pending', roundStart: event.attempt - 1, dueAttempt: event.attempt, dueAt: event.dueAt };
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
  record: AttemptRecord;
  /** Chooses the delay before retry number `retry` (0-based within the round). */
  delay(retry: number): { delayMs: number; basis: 'backoff' | 'retry_after' };
}

/**
 * Records an attempt, always (it happened), and moves the delivery on only if that attempt was still the one
 * due: a delivery that was meanwhile cancelled or redelivered keeps its newer state.
 */
export function decideAttempt(state: DeliveryState, deliveryId: string, result: AttemptResult, retries: number, now: Date): IEvent[] {
  const { organisationId, webhookId } = state;
  const attempt = state.attempts + 1;
  const events: IEvent[] = [new DeliveryAttempted(deliveryId, organisationId, webhookId, attempt, result.succeeded, result.record)];
  if (!isActive(state) || state.dueAttempt !== result.dueAttempt) return events;
  if (result.succeeded) return [...events, new DeliverySucceeded(deliveryId, organisationId, webhookId, attempt, now.toISOString())];
  const retry = attempt - state.roundStart - 1;
  if (result.retryable && retry < retries) {
    const { delayMs, basis } = result.delay(retry);
    const dueAt = new Date(now.getTime() + delayMs).toISOString();
    return [...events, new DeliveryRetryScheduled(deliveryId, organisationId, webhookId, attempt + 1, dueAt, delayMs, basis)];
  }
  const reason = result.retryable ? 'retries_exhausted' : 'not_retryable';
  return [...events, new DeliveryFailed(deliveryId, organisationId, webhookId, attempt, reason, result.record.errorClass, now.toISOString())];
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
