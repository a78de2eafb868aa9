import { CommandHandler, type ICommandHandler, type IEvent } from '@nestjs/cqrs';
import { AggregateStore, type Decided } from '../../cqrs/aggregate-store';
import { WrongExpectedVersion } from '../../event-store/event-store.errors';
import { notFound } from '../../http/app-error';
import { decideAttempt, decideCancel, decideExpiry, decideRedelivery, Delivery, type DeliveryState } from '../delivery.aggregate';
import { DeliveryScheduled, deliveryStream } from '../events/delivery.events';
import { CancelDelivery, ExpireDelivery, RecordDeliveryAttempt, RequestRedelivery, ScheduleDelivery } from './delivery.commands';

/**
 * Scheduling is the first event of a delivery's stream, so it is appended with `no_stream` straight away
 * instead of loading the stream to find it empty: for a new delivery (every one but a replay) that read was
 * two queries and a thrown StreamNotFound, on the planner's path, once per (event, webhook). A stream that
 * already exists (a replay of the planner, or a retried append whose answer was lost) is refused, and the
 * command then changes nothing.
 */
@CommandHandler(ScheduleDelivery)
export class ScheduleDeliveryHandler implements ICommandHandler<ScheduleDelivery, Decided<DeliveryState>> {
  constructor(
    private readonly aggregates: AggregateStore,
  ) {}

  async execute(c: ScheduleDelivery): Promise<Decided<DeliveryState>> {
    const stream = deliveryStream(c.deliveryId);
    const scheduled = new DeliveryScheduled(
      c.deliveryId,
      c.organisationId,
      c.webhookId,
      c.eventId,
      c.eventType,
      c.projectId,
      c.eventStream,
      c.eventRevision.toString(),
      1,
      new Date().toISOString(),
    );
    try {
      const appended = await this.aggregates.record(stream, [scheduled], { expectedRevision: 'no_stream' });
      return { state: Delivery.evolve(Delivery.initial(), scheduled), events: [scheduled], appended };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersion)) throw error;
      return this.aggregates.execute(stream, Delivery, () => []);
    }
  }
}

/**
 * The worker hands over the delivery as it loaded it before the attempt (`loaded`): the outcome is appended at
 * that revision, so recording costs no second read of the stream it has just read. The expected revision
 * keeps it exact: if anything was appended meanwhile (a cancellation, another instance), the append is
 * refused and the outcome is decided again, as before, on the stream as it now is.
 */
@CommandHandler(RecordDeliveryAttempt)
export class RecordDeliveryAttemptHandler implements ICommandHandler<RecordDeliveryAttempt, Decided<DeliveryState>> {
  constructor(
    private readonly aggregates: AggregateStore,
  ) {}

  async execute({ deliveryId, result, retries, deadlineMs, loaded }: RecordDeliveryAttempt): Promise<Decided<DeliveryState>> {
    const stream = deliveryStream(deliveryId);
    const decide = (state: DeliveryState): IEvent[] => decideAttempt(state, deliveryId, result, retries, deadlineMs, new Date());
    if (loaded) {
      const events = decide(loaded.state);
      try {
        const appended = await this.aggregates.record(stream, events, { expectedRevision: loaded.revision });
        return { state: events.reduce<DeliveryState>((state, event) => Delivery.evolve(state, event), loaded.state), events, appended };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersion)) throw error;
      }
    }
    return this.aggregates.execute(stream, Delivery, decide);
  }
}

@CommandHandler(RequestRedelivery)
export class RequestRedeliveryHandler implements ICommandHandler<RequestRedelivery, Decided<DeliveryState>> {
  constructor(private readonly aggregates: AggregateStore) {}

  execute({ organisationId, deliveryId, requestedBy }: RequestRedelivery): Promise<Decided<DeliveryState>> {
    return this.aggregates.execute(deliveryStream(deliveryId), Delivery, (state) => {
      if (state.exists && state.organisationId !== organisationId) throw notFound('Delivery not found');
      return decideRedelivery(state, deliveryId, requestedBy, new Date());
    });
  }
}

@CommandHandler(CancelDelivery)
export class CancelDeliveryHandler implements ICommandHandler<CancelDelivery, Decided<DeliveryState>> {
  constructor(private readonly aggregates: AggregateStore) {}

  execute({ deliveryId, reason }: CancelDelivery): Promise<Decided<DeliveryState>> {
    return this.aggregates.execute(deliveryStream(deliveryId), Delivery, (state) => decideCancel(state, deliveryId, reason, new Date()));
  }
}

@CommandHandler(ExpireDelivery)
export class ExpireDeliveryHandler implements ICommandHandler<ExpireDelivery, Decided<DeliveryState>> {
  constructor(private readonly aggregates: AggregateStore) {}

  execute({ deliveryId, deadlineMs }: ExpireDelivery): Promise<Decided<DeliveryState>> {
    return this.aggregates.execute(deliveryStream(deliveryId), Delivery, (state) => decideExpiry(state, deliveryId, deadlineMs, new Date()));
  }
}
