import { Injectable } from '@nestjs/common';
import { CommandBus, type IEvent } from '@nestjs/cqrs';
import { AggregateStore } from '../../cqrs/aggregate-store';
import type { EventContext } from '../../cqrs/domain-event';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import { LedgerCheckpointRecorded } from '../../audit/events/ledger.events';
import type { JsonObject } from '../../event-store/event-store.port';
import { isOperatorNotice } from '../catalog/event-catalog';
import { RecordSecurityEvent } from '../commands/security-event.commands';
import { Delivery } from '../delivery.aggregate';
import { DeliveryFailed, deliveryStream } from '../events/delivery.events';
import { WebhookDisabled } from '../events/webhook.events';
import { derivedEventId } from '../ids';
import { WebhooksProjection } from '../projections/webhooks.projection';

export const OPERATOR_NOTICES_PRODUCER = 'outbound.operator-notices';

/**
 * Older causes are not noticed: this reactor's first start (or a replay from zero after read-models.db was
 * deleted) would otherwise publish a notice for every dead letter in the log's history.
 */
const NOTICE_WINDOW_MS = 24 * 3_600_000;

/**
 * Towline's operator notices (catalog: OPERATOR_NOTICES), one per cause, under ids derived from it:
 * `message.attempt.exhausted` for a dead letter, `endpoint.disabled` when Towline disabled a webhook. They are
 * security events of the organisation like any other, so the planner delivers them — only to webhooks that
 * list them, never to the webhook they are about (delivery-planner.ts `matches`). A notice's own dead letter
 * makes no notice, so two failing subscribers cannot keep each other busy. `audit.checkpoint` sends each
 * organisation's signed ledger checkpoint out of Towline as it is made, when one of its webhooks asks for it
 * (the instance's own ledger stays in).
 */
@StoreConsumer({ name: OPERATOR_NOTICES_PRODUCER, kind: 'reactor', events: [DeliveryFailed, WebhookDisabled, LedgerCheckpointRecorded] })
@Injectable()
export class OperatorNoticesProducer implements StoreConsumerHandler {
  constructor(
    private readonly commands: CommandBus,
    private readonly aggregates: AggregateStore,
    private readonly webhooks: WebhooksProjection,
  ) {}

  private subscribed(organisationId: string, type: string): boolean {
    return this.webhooks.list(organisationId).some((w) => w.settings.enabled && (w.settings.eventTypes ?? []).includes(type));
  }

  async handle(event: IEvent, context: EventContext): Promise<void> {
    if (Date.now() - context.created.getTime() > NOTICE_WINDOW_MS) return;
    if (event instanceof DeliveryFailed) {
      const { state } = await this.aggregates.load(deliveryStream(event.deliveryId), Delivery);
      if (isOperatorNotice(state.eventType)) return;
      await this.commands.execute(
        new RecordSecurityEvent(
          {
            event_type: 'message.attempt.exhausted',
            organisation_id: event.organisationId,
            project_id: null,
            data: {
              webhook_id: event.webhookId,
              delivery_id: event.deliveryId,
              event_id: state.eventId,
              event_type: state.eventType,
              attempts: event.attempts,
              reason: event.reason,
              last_error: event.lastError,
              failed_at: event.failedAt,
            },
          },
          'delivery',
          derivedEventId('message.attempt.exhausted', context.id),
        ),
      );
    } else if (event instanceof LedgerCheckpointRecorded) {
      // Only when someone asked for it: an unwanted notice would itself be a change for the next checkpoint.
      if (event.organisationId === null || !this.subscribed(event.organisationId, 'audit.checkpoint')) return;
      await this.commands.execute(
        new RecordSecurityEvent(
          {
            event_type: 'audit.checkpoint',
            organisation_id: event.organisationId,
            project_id: null,
            data: { ledger: context.stream, sequence: event.sequence, streams: event.streams.length, checkpoint: JSON.parse(JSON.stringify(event)) as JsonObject },
          },
          'delivery',
          derivedEventId('audit.checkpoint', context.id),
        ),
      );
    } else if (event instanceof WebhookDisabled) {
      await this.commands.execute(
        new RecordSecurityEvent(
          {
            event_type: 'endpoint.disabled',
            organisation_id: event.organisationId,
            project_id: null,
            data: { webhook_id: event.webhookId, reason: event.reason, disabled_at: event.disabledAt },
          },
          'delivery',
          derivedEventId('endpoint.disabled', context.id),
        ),
      );
    }
  }
}
