import type { IEvent } from '@nestjs/cqrs';
import { DomainEvent } from '../../cqrs/domain-event';

/**
 * Stream `delivery-<deliveryId>`: one security event to one webhook, every attempt included. The delivery id
 * is derived from (event id, webhook id) (see ids.ts), so planning the same event twice — a replay, a
 * restart before the checkpoint — finds the stream already there and creates nothing.
 *
 * The events that make an attempt due (DeliveryScheduled, DeliveryRetryScheduled, DeliveryRedeliveryRequested)
 * carry the number of the attempt they make due and when: that is the delivery queue's unit of work, and a
 * worker acts on it only while it is still the delivery's current one.
 */
export const deliveryStream = (deliveryId: string) => `delivery-${deliveryId}`;

/** What one HTTP attempt sent and got back. */
export interface AttemptRecord {
  startedAt: string;
  durationMs: number;
  request: {
    /** sha256:<hex> of the exact body sent. */
    digest: string;
    bytes: number;
    format: string;
    /** The ids (never the values) of the secrets it was signed with. */
    secretIds: string[];
  };
  response: {
    status: number | null;
    headers: Record<string, string>;
    /** The first 4 KiB of the body. */
    body: string | null;
    bodyTruncated: boolean;
  };
  /** null on success; else e.g. server_error, rate_limited, redirect, timeout, connection, unsafe_address. */
  errorClass: string | null;
  error: string | null;
}

@DomainEvent('DeliveryScheduled')
export class DeliveryScheduled implements IEvent {
  constructor(
    readonly deliveryId: string,
    readonly organisationId: string,
    readonly webhookId: string,
    readonly eventId: string,
    readonly eventType: string,
    readonly projectId: string | null,
    /** Where the security event is: its stream and revision (as text, JSON has no bigint). */
    readonly eventStream: string,
    readonly eventRevision: string,
    readonly attempt: number,
    readonly dueAt: string,
  ) {}
}

@DomainEvent('DeliveryAttempted')
export class DeliveryAttempted implements IEvent {
  constructor(
    readonly deliveryId: string,
    readonly organisationId: string,
    readonly webhookId: string,
    /** 1-based, counted over the delivery's whole life (redeliveries continue the count). */
    readonly attempt: number,
    readonly succeeded: boolean,
    readonly record: AttemptRecord,
    /**
     * The receiver pushed back (429, or 503 with Retry-After), or shutdown cut the attempt short: not a
     * failure of the endpoint — it neither counts towards the circuit nor uses up a retry. Absent on events
     * recorded before it existed.
     */
    readonly backPressure?: boolean,
  ) {}
}

@DomainEvent('DeliveryRetryScheduled')
export class DeliveryRetryScheduled implements IEvent {
  constructor(
    readonly deliveryId: string,
    readonly organisationId: string,
    readonly webhookId: string,
    readonly attempt: number,
    readonly dueAt: string,
    readonly delayMs: number,
    /**
     * backoff: the retry schedule (with jitter); retry_after: a failure's Retry-After, within bounds (older
     * events); back_pressure: the receiver asked to wait (429, 503 with Retry-After); interrupted: the attempt
     * was cut short by shutdown — neither uses up a retry.
     */
    readonly basis: 'backoff' | 'retry_after' | 'back_pressure' | 'interrupted',
  ) {}
}

@DomainEvent('DeliverySucceeded')
export class DeliverySucceeded implements IEvent {
  constructor(
    readonly deliveryId: string,
    readonly organisationId: string,
    readonly webhookId: string,
    readonly attempt: number,
    readonly succeededAt: string,
  ) {}
}

/** A dead letter: it stays visible, and can be redelivered (alone, or by a bulk recover). */
@DomainEvent('DeliveryFailed')
export class DeliveryFailed implements IEvent {
  constructor(
    readonly deliveryId: string,
    readonly organisationId: string,
    readonly webhookId: string,
    readonly attempts: number,
    /**
     * retries_exhausted (the last retry failed, or the round's wall-clock deadline passed before it came due),
     * or not_retryable (an answer that retrying cannot change: 4xx, 3xx, refused address).
     */
    readonly reason: 'retries_exhausted' | 'not_retryable',
    readonly lastError: string | null,
    readonly failedAt: string,
  ) {}
}

/** The webhook was deleted or disabled before this delivery could be made. */
@DomainEvent('DeliveryCancelled')
export class DeliveryCancelled implements IEvent {
  constructor(
    readonly deliveryId: string,
    readonly organisationId: string,
    readonly webhookId: string,
    readonly reason: 'webhook_deleted' | 'webhook_disabled',
    readonly cancelledAt: string,
  ) {}
}

/**
 * An instance took the due attempt: appended at the revision it read, so of two instances racing for one
 * attempt exactly one gets it (the other's append is refused, and it skips). The claim holds until
 * `leaseUntil`; an instance that dies meanwhile leaves the attempt due again then. Only written on a store
 * shared by several instances — on the embedded store the process is the only writer.
 */
@DomainEvent('DeliveryAttemptClaimed')
export class DeliveryAttemptClaimed implements IEvent {
  constructor(
    readonly deliveryId: string,
    readonly organisationId: string,
    readonly webhookId: string,
    readonly attempt: number,
    readonly instanceId: string,
    readonly claimedAt: string,
    readonly leaseUntil: string,
  ) {}
}

/** A new round of attempts (with a fresh retry budget) for a finished delivery; same delivery id. */
@DomainEvent('DeliveryRedeliveryRequested')
export class DeliveryRedeliveryRequested implements IEvent {
  constructor(
    readonly deliveryId: string,
    readonly organisationId: string,
    readonly webhookId: string,
    readonly attempt: number,
    readonly dueAt: string,
    readonly requestedBy: 'manual' | 'recover',
  ) {}
}
