import { Injectable } from '@nestjs/common';
import { CommandBus, type IEvent } from '@nestjs/cqrs';
import type { EventContext } from '../../cqrs/domain-event';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import { RecordSecurityEvent } from '../commands/security-event.commands';
import { MonitoringPaused, MonitoringResumed } from '../events/monitoring.events';
import { derivedEventId } from '../ids';

export const MONITORING_PRODUCER = 'outbound.monitoring-events';

const actorOf = (context: EventContext) => (typeof context.metadata.actor === 'string' ? context.metadata.actor : null);

/** ascam.paused (medium, as the seed says) and ascam.resumed, one per pause or resume recorded. */
// partOfAnswer: a pause or resume answers once its ascam.paused / ascam.resumed is recorded.
@StoreConsumer({ name: MONITORING_PRODUCER, kind: 'reactor', partOfAnswer: true, events: [MonitoringPaused, MonitoringResumed] })
@Injectable()
export class MonitoringEventsProducer implements StoreConsumerHandler {
  constructor(private readonly commands: CommandBus) {}

  async handle(event: IEvent, context: EventContext): Promise<void> {
    if (event instanceof MonitoringPaused) {
      await this.commands.execute(
        new RecordSecurityEvent(
          {
            event_type: 'ascam.paused',
            organisation_id: event.organisationId,
            project_id: event.projectId,
            data: { reason: event.reason, paused_by: actorOf(context), paused_at: event.pausedAt },
          },
          'monitoring',
          derivedEventId('ascam.paused', context.id),
        ),
      );
    } else if (event instanceof MonitoringResumed) {
      await this.commands.execute(
        new RecordSecurityEvent(
          {
            event_type: 'ascam.resumed',
            organisation_id: event.organisationId,
            project_id: event.projectId,
            data: { resumed_by: actorOf(context), resumed_at: event.resumedAt, paused_seconds: event.pausedSeconds },
          },
          'monitoring',
          derivedEventId('ascam.resumed', context.id),
        ),
      );
    }
  }
}
