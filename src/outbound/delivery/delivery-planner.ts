import { Injectable } from '@nestjs/common';
import { CommandBus, type IEvent } from '@nestjs/cqrs';
import type { Decided } from '../../cqrs/aggregate-store';
import type { EventContext } from '../../cqrs/domain-event';
import { ReadSideRunner } from '../../cqrs/read-side.runner';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import { ScheduleDelivery } from '../commands/delivery.commands';
import type { DeliveryState } from '../delivery.aggregate';
import type { SecurityEnvelope } from '../envelope';
import { SecurityEventRecorded } from '../events/security-event.events';
import type { WebhookSettings } from '../events/webhook.events';
import { isOperatorNotice } from '../catalog/event-catalog';
import { deliveryIdFor } from '../ids';
import { minSeverityOf, severe } from '../webhook-rate-limit';
import { WEBHOOKS_PROJECTION, WebhooksProjection } from '../projections/webhooks.projection';
import { BoundedCache } from './bounded-cache';
import { EnvelopeCache } from './envelope-cache';

/** Delivery streams as this process last wrote them (see `written`); more are simply read from the store. */
const WRITTEN = 10_000;

/**
 * Whether a webhook wants an event: enabled, the event's type among its types (if it lists any; Towline's
 * operator notices only when listed), the event at least its minimum severity, and the event's project among
 * its projects (if it lists any — an event without a project then does not match). An operator notice about
 * a webhook never goes to that webhook itself: it is failing, and a notice of its failure could only fail too.
 */
export function matches(
  settings: WebhookSettings,
  envelope: Pick<SecurityEnvelope, 'event_type' | 'project_id' | 'severity' | 'data'>,
  webhookId?: string,
): boolean {
  if (!settings.enabled) return false;
  if (isOperatorNotice(envelope.event_type)) {
    if (!settings.eventTypes?.includes(envelope.event_type)) return false;
    if (webhookId !== undefined && (envelope.data as { webhook_id?: unknown }).webhook_id === webhookId) return false;
  } else if (settings.eventTypes && !settings.eventTypes.includes(envelope.event_type)) return false;
  if (!severe(envelope.severity, minSeverityOf(settings))) return false;
  if (settings.projectIds && (envelope.project_id === null || !settings.projectIds.includes(envelope.project_id))) return false;
  return true;
}

export const DELIVERY_PLANNER = 'outbound.delivery-planner';

/**
 * One delivery per matching webhook, under an id derived from (event, webhook): a replay schedules nothing new.
 * Each event is matched against the organisation's webhooks as they were at the event's place in the log
 * (WebhooksProjection keeps their versions), so events are independent of each other: many are planned at
 * once, and their deliveries share the store's group commits.
 *
 * The event is kept for the attempts (`planned`), which would otherwise each read it back from the log, and
 * so is each new delivery's state (`written`), which they would otherwise read back from its stream.
 */
@StoreConsumer({ name: DELIVERY_PLANNER, kind: 'reactor', concurrency: 32, events: [SecurityEventRecorded] })
@Injectable()
export class DeliveryPlanner implements StoreConsumerHandler {
  readonly planned = new EnvelopeCache();
  /**
   * The state and revision of delivery streams as this process has just written them, for the next attempt
   * to start from instead of reading the stream back (DeliveryAttempts takes an entry at most once). Filled
   * here when a delivery is scheduled and by the attempts when they schedule a retry.
   */
  readonly written = new BoundedCache<string, { state: DeliveryState; revision: bigint }>(WRITTEN);

  constructor(
    private readonly commands: CommandBus,
    private readonly webhooks: WebhooksProjection,
    private readonly readSide: ReadSideRunner,
  ) {}

  /** Each event is its own partition: one that cannot be planned holds up no other. */
  partitionOf(_event: IEvent, context: EventContext): string {
    return `${context.stream}@${context.revision}`;
  }

  async handle(event: IEvent, context: EventContext): Promise<void> {
    if (!(event instanceof SecurityEventRecorded)) return;
    const { envelope } = event;
    // The webhooks' versions must reach the event's place before it is matched (a projection: it gets there fast).
    await this.readSide.catchUp([WEBHOOKS_PROJECTION], context.position, 60_000);
    const matching = this.webhooks.asOf(envelope.organisation_id, context.position).filter((webhook) => matches(webhook.settings, envelope, webhook.id));
    if (matching.length === 0) return;
    this.planned.remember(context.stream, context.revision, envelope);
    await Promise.all(
      matching.map(async (webhook) => {
        const deliveryId = deliveryIdFor(envelope.id, webhook.id);
        const decided = await this.commands.execute<ScheduleDelivery, Decided<DeliveryState>>(
          new ScheduleDelivery(deliveryId, envelope.organisation_id, webhook.id, envelope.id, envelope.event_type, envelope.project_id, context.stream, context.revision),
        );
        if (decided.appended && decided.events.length > 0) this.written.set(deliveryId, { state: decided.state, revision: decided.appended.nextExpectedRevision });
      }),
    );
  }
}
