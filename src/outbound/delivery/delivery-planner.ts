import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { EventContext } from '../../cqrs/domain-event';
import { ScheduleDelivery } from '../commands/delivery.commands';
import type { SecurityEnvelope } from '../envelope';
import type { WebhookSettings } from '../events/webhook.events';
import { deliveryIdFor } from '../ids';

/**
 * Whether a webhook wants an event: enabled, the event's type among its types (if it lists any), and the
 * event's project among its projects (if it lists any — an event without a project then does not match).
 */
export function matches(settings: WebhookSettings, envelope: Pick<SecurityEnvelope, 'event_type' | 'project_id'>): boolean {
  if (!settings.enabled) return false;
  if (settings.eventTypes && !settings.eventTypes.includes(envelope.event_type)) return false;
  if (settings.projectIds && (envelope.project_id === null || !settings.projectIds.includes(envelope.project_id))) return false;
  return true;
}

/** One delivery per matching webhook, under an id derived from (event, webhook): a replay schedules nothing new. */
@Injectable()
export class DeliveryPlanner {
  constructor(private readonly commands: CommandBus) {}

  async plan(envelope: SecurityEnvelope, context: EventContext, webhooks: { id: string; settings: WebhookSettings }[]): Promise<void> {
    await Promise.all(
      webhooks
        .filter((webhook) => matches(webhook.settings, envelope))
        .map((webhook) =>
          this.commands.execute(
            new ScheduleDelivery(
              deliveryIdFor(envelope.id, webhook.id),
              envelope.organisation_id,
              webhook.id,
              envelope.id,
              envelope.event_type,
              envelope.project_id,
              context.stream,
              context.revision,
            ),
          ),
        ),
    );
  }
}
