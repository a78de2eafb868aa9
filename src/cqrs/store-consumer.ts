import { SetMetadata, type Type } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { EventContext } from './domain-event';

export const STORE_CONSUMER = Symbol('STORE_CONSUMER');

export interface StoreConsumerOptions {
  /** The checkpoint's key: rename it and the consumer starts again from position zero. */
  name: string;
  /** The event classes it reads; the store's subscription is filtered to their types. */
  events: Type<IEvent>[];
  /**
   * `projection` (default): an event that keeps failing stops the consumer, which restarts from its
   * checkpoint, since skipping would leave the read model wrong. `saga`: the event is logged and skipped
   * after the retries, so one bad event cannot stop triggers for every other.
   */
  kind?: 'projection' | 'saga';
}

/**
 * Marks a provider fed from the event store's $all subscription with its own stored checkpoint. The provider
 * implements `handle` (projections, workers), and/or has @nestjs/cqrs `@Saga()` properties, whose commands
 * the runner executes through the CommandBus. Delivery is at least once: handlers must be idempotent.
 */
export const StoreConsumer = (options: StoreConsumerOptions) => SetMetadata(STORE_CONSUMER, options);

export interface StoreConsumerHandler {
  handle?(event: IEvent, context: EventContext): Promise<void> | void;
}
