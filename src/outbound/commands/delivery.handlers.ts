import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AggregateStore, type Decided } from '../../cqrs/aggregate-store';
import { notFound } from '../../http/app-error';
import { decideAttempt, decideCancel, decideRedelivery, Delivery, type DeliveryState } from '../delivery.aggregate';
import { DeliveryScheduled, deliveryStream } from '../events/delivery.events';
import { CancelDelivery, RecordDeliveryAttempt, RequestRedelivery, ScheduleDelivery } from './delivery.commands';

/** Scheduling an existing delivery is a replay of the planner: nothing happens. */
@CommandHandler(ScheduleDelivery)
export class ScheduleDeliveryHandler implements ICommandHandler<ScheduleDelivery, Decided<DeliveryState>> {
  constructor(private readonly aggregates: AggregateStore) {}

  execute(c: ScheduleDelivery): Promise<Decided<DeliveryState>> {
    return this.aggregates.execute(deliveryStream(c.deliveryId), Delivery, (state) =>
      state.exists
        ? []
        : [
            new DeliveryScheduled(
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
            ),
          ],
    );
  }
}

@CommandHandler(RecordDeliveryAttempt)
export class RecordDeliveryAttemptHandler implements ICommandHandler<RecordDeliveryAttempt, Decided<DeliveryState>> {
  constructor(private readonly aggregates: AggregateStore) {}

  execute({ deliveryId, result, retries }: RecordDeliveryAttempt): Promise<Decided<DeliveryState>> {
    return this.aggregates.execute(deliveryStream(deliveryId), Delivery, (state) => decideAttempt(state, deliveryId, result, retries, new Date()));
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
