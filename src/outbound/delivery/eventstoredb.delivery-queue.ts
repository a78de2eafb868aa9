import {
  EventStoreDBClient,
  PARK,
  PersistentSubscriptionExistsError,
  RETRY,
  START,
  eventTypeFilter,
  persistentSubscriptionToAllSettingsFromDefaults,
  type PersistentSubscriptionToAll,
  type PersistentSubscriptionToAllResolvedEvent,
} from '@eventstore/db-client';
import { Logger } from '@nestjs/common';
import type { DeliveryJob, DeliveryQueue, DeliveryRunner } from './delivery-queue.port';

/** The persistent subscription group every Towline instance on the cluster joins. */
export const DELIVERY_GROUP = 'towline-deliveries';
/** The events that make an attempt due: each is one job. */
export const JOB_EVENT_TYPES = ['DeliveryScheduled', 'DeliveryRetryScheduled', 'DeliveryRedeliveryRequested'] as const;

export interface EventStoreDbQueueSettings {
  /** A job is held (unacknowledged) at most this long waiting to be due or for room; beyond, it is parked. */
  holdMs: number;
  /** One attempt at most (TW_DELIVERY_TIMEOUT). */
  attemptTimeoutMs: number;
  /** Unacknowledged messages the server may hand this consumer at once. */
  bufferSize: number;
  /** Parked jobs are replayed at least this often (they are also replayed when the earliest comes due). */
  parkedReplayMs: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The job an event stands for, or null for anything else (the filter should let nothing else through). */
export function jobFromEvent(type: string, data: unknown): DeliveryJob | null {
  if (!(JOB_EVENT_TYPES as readonly string[]).includes(type) || typeof data !== 'object' || data === null) return null;
  const { deliveryId, webhookId, attempt, dueAt } = data as Record<string, unknown>;
  if (typeof deliveryId !== 'string' || typeof webhookId !== 'string' || typeof attempt !== 'number' || typeof dueAt !== 'string') return null;
  const due = Date.parse(dueAt);
  return Number.isNaN(due) ? null : { deliveryId, webhookId, attempt, dueAt: due };
}

/**
 * The delivery queue shared by every instance on one EventStoreDB cluster: a persistent subscription to
 * $all, filtered to the job events, in the `towline-deliveries` group (created on first start, round
 * robin). The server hands each job to one consumer and hands it to another only if it is not acknowledged
 * within the message timeout (the consumer died) — competing consumers, at least once.
 *
 * The persistent subscription is not a delay queue, so a consumer holds a job (unacknowledged) only while it
 * is nearly due and there is room for it (`holdMs`). A job due later, or for a webhook whose lane is full or
 * whose circuit is open, is parked instead of held, so it never blocks this consumer's buffer; parked jobs
 * are replayed when the earliest of them comes due and every `parkedReplayMs` (which also recovers jobs
 * parked by an instance that has since stopped). A replayed job that is no longer current is found stale by
 * the worker (each job names the attempt it makes due) and acknowledged without sending anything.
 *
 * The worker, the SSRF guard, signing and recording are the same as on the embedded store; this adapter
 * only decides who runs which job. It needs EventStoreDB 21.10+ (persistent subscriptions to $all).
 */
export class EventStoreDbDeliveryQueue implements DeliveryQueue {
  private readonly logger = new Logger(EventStoreDbDeliveryQueue.name);
  private readonly handling = new Set<Promise<void>>();
  private subscription?: PersistentSubscriptionToAll;
  private consuming?: Promise<void>;
  private replayTimer?: NodeJS.Timeout;
  private replayDue: number | null = null;
  private fallbackTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly settings: EventStoreDbQueueSettings,
    private readonly ownsClient = false,
  ) {}

  static fromConnectionString(connectionString: string, settings: EventStoreDbQueueSettings): EventStoreDbDeliveryQueue {
    return new EventStoreDbDeliveryQueue(EventStoreDBClient.connectionString(connectionString), settings, true);
  }

  start(runner: DeliveryRunner): void {
    this.consuming = this.consume(runner);
    this.fallbackTimer = setInterval(() => void this.replayParked(), this.settings.parkedReplayMs);
  }

  /** Nothing to do: the server pushes jobs as they are written. */
  wake(): void {}

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.replayTimer);
    clearInterval(this.fallbackTimer);
    await this.subscription?.unsubscribe().catch(() => undefined);
    await this.consuming;
    await Promise.all([...this.handling]);
    if (this.ownsClient) await this.client.dispose();
  }

  /** Creates the group if it does not exist; an existing group keeps its settings (change them with the EventStoreDB UI or API). */
  private async ensureGroup(): Promise<void> {
    const { holdMs, attemptTimeoutMs } = this.settings;
    try {
      await this.client.createPersistentSubscriptionToAll(
        DELIVERY_GROUP,
        persistentSubscriptionToAllSettingsFromDefaults({
          startFrom: START,
          // Longer than a consumer can hold a job (waiting to be due, then for room) plus one attempt and its recording.
          messageTimeout: 2 * holdMs + attemptTimeoutMs + 30_000,
          maxRetryCount: 10,
          consumerStrategyName: 'RoundRobin',
        }),
        { filter: eventTypeFilter({ regex: `^(${JOB_EVENT_TYPES.join('|')})$` }) },
      );
    } catch (error) {
      if (!(error instanceof PersistentSubscriptionExistsError)) throw error;
    }
  }

  private async consume(runner: DeliveryRunner): Promise<void> {
    while (!this.stopped) {
      try {
        await this.ensureGroup();
        const subscription = this.client.subscribeToPersistentSubscriptionToAll(DELIVERY_GROUP, { bufferSize: this.settings.bufferSize });
        this.subscription = subscription;
        for await (const message of subscription) {
          if (this.stopped) break;
          // Handled side by side: a job waiting to be due must not hold up the next message.
          const handled = this.handle(subscription, runner, message).catch((error: unknown) =>
            this.logger.error(`Delivery job failed: ${(error as Error).stack ?? String(error)}`),
          );
          this.handling.add(handled);
          void handled.finally(() => this.handling.delete(handled));
        }
      } catch (error) {
        if (this.stopped) return;
        this.logger.error(`Delivery subscription dropped: ${(error as Error).message}; reconnecting`);
        await sleep(2_000);
      }
    }
  }

  private async handle(subscription: PersistentSubscriptionToAll, runner: DeliveryRunner, message: PersistentSubscriptionToAllResolvedEvent): Promise<void> {
    const event = message.event;
    const job = event ? jobFromEvent(event.type, event.data) : null;
    if (!job) return subscription.ack(message);

    const wait = job.dueAt - Date.now();
    if (wait > this.settings.holdMs) return this.park(subscription, message, 'not due yet', job.dueAt);
    if (wait > 0) await sleep(wait);

    const deadline = Date.now() + this.settings.holdMs;
    while (runner.capacity(job.webhookId) <= 0) {
      if (this.stopped) return subscription.nack(RETRY, 'consumer stopping', message);
      if (Date.now() >= deadline) return this.park(subscription, message, 'endpoint busy or circuit open', Date.now() + this.settings.holdMs);
      await sleep(100);
    }
    try {
      const outcome = await runner.run(job);
      if (outcome === 'aborted') {
        // Cut short by shutdown, nothing recorded: another consumer must have it.
        await subscription.nack(RETRY, 'consumer stopping', message);
      } else if (outcome === 'busy') {
        // Another run of this process holds the delivery (a replayed, older job): offer this one again shortly.
        await sleep(500);
        await subscription.nack(RETRY, 'delivery busy in this consumer', message);
      } else {
        await subscription.ack(message);
      }
    } catch (error) {
      await subscription.nack(RETRY, `attempt not recorded: ${(error as Error).message}`.slice(0, 200), message);
    }
  }

  private async park(subscription: PersistentSubscriptionToAll, message: PersistentSubscriptionToAllResolvedEvent, reason: string, replayAt: number) {
    await subscription.nack(PARK, reason, message);
    if (this.replayDue === null || replayAt < this.replayDue) {
      this.replayDue = replayAt;
      clearTimeout(this.replayTimer);
      this.replayTimer = setTimeout(() => void this.replayParked(), Math.max(1_000, replayAt - Date.now()));
    }
  }

  private async replayParked(): Promise<void> {
    if (this.stopped) return;
    this.replayDue = null;
    try {
      await this.client.replayParkedMessagesToAll(DELIVERY_GROUP);
    } catch (error) {
      this.logger.warn(`Replaying parked delivery jobs failed: ${(error as Error).message}`);
    }
  }
}
