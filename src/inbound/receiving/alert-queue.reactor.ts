import { Injectable } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { EventContext } from '../../cqrs/domain-event';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import { AlertReceived } from '../events/alert.events';
import { AlertProcessor, causeOf } from './alert-processor';

export const ALERT_QUEUE_REACTOR = 'inbound-alert-queue';

/**
 * The queue: every received webhook is an AlertReceived event, and this reactor, fed from the store with its
 * own checkpoint, makes sure each one gets processed — queued ones (async sources, a saturated synchronous
 * path), and synchronous ones whose processing was cut short (a crash, a failure), which a restart thus
 * finishes. For a synchronous receipt that is being or has been processed it joins or skips: the
 * processor is idempotent. A receipt that keeps failing is parked (listed, counted, retryable), never
 * silently dropped. Receipts are independent partitions (incidents they share queue per stream), so several
 * are processed at once.
 */
@StoreConsumer({ name: ALERT_QUEUE_REACTOR, kind: 'reactor', concurrency: 16, events: [AlertReceived] })
@Injectable()
export class AlertQueueReactor implements StoreConsumerHandler {
  constructor(private readonly processor: AlertProcessor) {}

  async handle(event: IEvent, context: EventContext): Promise<void> {
    if (!(event instanceof AlertReceived)) return;
    const processed = await this.processor.process(event, causeOf(context.id, context.metadata));
    await processed.recorded;
  }
}
