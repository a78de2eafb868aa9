import type { ICommand } from '@nestjs/cqrs';
import type { AttemptResult } from '../delivery.aggregate';
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
