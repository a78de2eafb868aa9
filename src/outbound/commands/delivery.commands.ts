import type { ICommand } from '@nestjs/cqrs';
import type { ExpectedRevision } from '../../event-store/event-store.port';
import type { AttemptResult, DeliveryState } from '../delivery.aggregate';
import type { DeliveryCancelled } from '../events/delivery.events';

export class ScheduleDelivery implements ICommand {
  constructor(
    readonly deliveryId: string,
    readonly organisationId: string,
    readonly webhookId: string,
    readonly eventId: string,
    readonly eventType: string,
    readonly projectId: string | null,
    readonly eventStream: string,
    readonly eventRevision: bigint,
  ) {}
}

export class RecordDeliveryAttempt implements ICommand {
  constructor(
    readonly deliveryId: string,
    readonly result: AttemptResult,
    /** How many retries a round has (the length of the retry schedule). */
    readonly retries: number,
    /** A round is settled by this long after its first attempt was due (TW_DELIVERY_DEADLINE). */
    readonly deadlineMs: number,
    /**
     * The delivery as the worker loaded it just before the attempt: the outcome is decided on it and appended
     * at its revision, without reading the stream again. If the stream moved on meanwhile, the append is
     * refused and the outcome is decided again on the stream as it is now.
     */
    readonly loaded?: { state: DeliveryState; revision: ExpectedRevision },
  ) {}
}

export class RequestRedelivery implements ICommand {
  constructor(
    readonly organisationId: string,
    readonly deliveryId: string,
    readonly requestedBy: 'manual' | 'recover',
  ) {}
}

export class CancelDelivery implements ICommand {
  constructor(
    readonly deliveryId: string,
    readonly reason: DeliveryCancelled['reason'],
  ) {}
}

/** Dead-letters a delivery whose round ran past its deadline while it waited (nothing when it is not due). */
export class ExpireDelivery implements ICommand {
  constructor(
    readonly deliveryId: string,
    readonly deadlineMs: number,
  ) {}
}
