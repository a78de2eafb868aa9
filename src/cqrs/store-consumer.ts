import { SetMetadata, type Type } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { EventContext } from './domain-event';

export const STORE_CONSUMER = Symbol('STORE_CONSUMER');

export interface StoreConsumerOptions {
  /** The checkpoint's key: rename it and the consumer starts again from position zero. */
  name: string;
  /** The event classes it reads; the log reader hands it only these types. */
  events: Type<IEvent>[];
  /**
   * `projection` (default): folds events into its own read-model tables and nothing else. Its `handle` is
   * synchronous, so a batch of events and the checkpoint after them commit in one local transaction: a
   * crash never applies an event twice, and a table never disagrees with its checkpoint. It can be rebuilt
   * from zero at any time (a new `version`, a scratch replay).
   * `reactor`: acts on events — issues commands, sends, keeps bookkeeping of its own — so its `handle` (or
   * its @Saga() properties) may be asynchronous. Delivery is at least once; it must be idempotent.
   */
  kind?: 'projection' | 'reactor';
  /**
   * Projections: bump it when the tables or the fold change. At start, a stored read model of another
   * version is emptied and rebuilt from zero in the background (readiness says so). Default 1.
   */
  version?: number;
  /** Projections: the read-model tables it owns — emptied on a version change, compared by a scratch replay. */
  tables?: string[];
  /**
   * Projections: indexes of its tables that only queries use — no `handle` looks rows up through them. A
   * rebuild from zero drops them and creates them once after its last event: building an index from a full
   * table is a sort, keeping it up to date row by row is a B-tree insert per row (a million audit links:
   * 8.6 s with their two indexes kept, 4.5 s with them built after).
   */
  queryIndexes?: string[];
  /**
   * Reactors: how many partitions (see StoreConsumerHandler.partitionOf) it works on at once; events of one
   * partition are always handled one after another, in log order. Default 1: the whole log in order.
   */
  concurrency?: number;
  /**
   * Reactors: what it does with an event is part of the API's answer to the request that wrote the event (the
   * security event a pause emits), so read-your-writes waits for it too. Default: a reactor's effects follow
   * the answer.
   */
  partOfAnswer?: boolean;
}

/**
 * Marks a provider fed from the event store through the read-side engine (ReadSideRunner), with its own
 * stored checkpoint. The provider implements `handle`, and/or (reactors) has @nestjs/cqrs `@Saga()`
 * properties, whose commands the engine executes through the CommandBus.
 */
export const StoreConsumer = (options: StoreConsumerOptions) => SetMetadata(STORE_CONSUMER, options);

export interface StoreConsumerHandler {
  handle?(event: IEvent, context: EventContext): Promise<void> | void;
  /**
   * What an event touches: when one fails for good it is parked, and later events with the same key park
   * behind it (never applied out of order) while every other key goes on; a concurrent reactor handles
   * different keys at once. It must cover whatever state handling the event reads or writes. Default: the
   * event's stream (one incident, one delivery, one source).
   */
  partitionOf?(event: IEvent, context: EventContext): string;
}
