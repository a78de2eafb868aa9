import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { hydrate, type EventContext } from '../../cqrs/domain-event';
import { currentContext, runWithContext } from '../../cqrs/request-context';
import { StreamNotFound } from '../../event-store/event-store.errors';
import { comparePositions, EVENT_STORE, type EventStore, type RecordedEvent } from '../../event-store/event-store.port';
import type { Decided } from '../../cqrs/aggregate-store';
import { ScheduleDelivery } from '../commands/delivery.commands';
import type { DeliveryState } from '../delivery.aggregate';
import type { SecurityEnvelope } from '../envelope';
import { SecurityEventRecorded } from '../events/security-event.events';
import { webhooksStream, type WebhookSettings } from '../events/webhook.events';
import { deliveryIdFor } from '../ids';
import { BoundedCache } from './bounded-cache';
import { EnvelopeCache } from './envelope-cache';

/** How many of the organisation's next security events one planning round takes on at most. */
const LOOKAHEAD = 64;
/** Events planned ahead and not yet handed to the planner by the read side; more are simply planned again. */
const PLANNED_AHEAD = 10_000;
/** Delivery streams as this process last wrote them (see `written`); more are simply read from the store. */
const WRITTEN = 10_000;

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

type Webhooks = { id: string; settings: WebhookSettings }[];

/**
 * One delivery per matching webhook, under an id derived from (event, webhook): a replay schedules nothing new.
 *
 * The read side hands the planner one security event at a time and waits until its deliveries are durable
 * before the next, so every event cost a commit (an fsync) and a turn of the event loop of its own: in the
 * profile of bench/outbound.bench.ts the planner, not the sending, set the pace — 400 events published in
 * one second were still being planned five seconds later, one commit each, while the attempts waited on them.
 * So a planning round also takes on the organisation's next security events that are already in the log
 * (read from its stream, at most LOOKAHEAD), as long as no webhook of the organisation has changed since the
 * event in hand: those events would be matched against exactly the same webhooks when their turn comes, so
 * planning them now decides the same. All their deliveries go into one commit; once it is durable, each
 * event planned ahead is noted, and the read side's later hand-over of it finds it done. A crash loses only
 * the notes: the read side hands the events over again from its checkpoint and they are planned again, which
 * schedules nothing twice.
 *
 * The event is kept for the attempts (`planned`), which would otherwise each read it back from the log, and
 * so is each new delivery's state (`written`), which they would otherwise read back from its stream.
 */
@Injectable()
export class DeliveryPlanner {
  readonly planned = new EnvelopeCache();
  /**
   * The state and revision of delivery streams as this process has just written them, for the next attempt
   * to start from instead of reading the stream back (DeliveryAttempts takes an entry at most once). Filled
   * here when a delivery is scheduled and by the attempts when they schedule a retry.
   */
  readonly written = new BoundedCache<string, { state: DeliveryState; revision: bigint }>(WRITTEN);
  private readonly plannedAhead = new BoundedCache<string, true>(PLANNED_AHEAD);

  constructor(
    private readonly commands: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async plan(envelope: SecurityEnvelope, context: EventContext, webhooks: Webhooks): Promise<void> {
    const key = placeOf(context.stream, context.revision);
    if (this.plannedAhead.get(key)) {
      this.plannedAhead.delete(key);
      return;
    }
    if (webhooks.length === 0) return;
    const ahead = await this.nextEvents(context, envelope.organisation_id);
    const actor = currentContext()?.actor ?? 'system';
    const [own, ...others] = await Promise.allSettled([
      this.schedule(envelope, context.stream, context.revision, webhooks),
      // Each stamped as the read side would stamp it: caused by its own event, in that event's correlation.
      ...ahead.map(({ recorded, envelope: next }) =>
        runWithContext(
          { correlationId: typeof recorded.metadata.$correlationId === 'string' ? recorded.metadata.$correlationId : recorded.id, causationId: recorded.id, actor },
          () => this.schedule(next, recorded.stream, recorded.revision, webhooks),
        ),
      ),
    ]);
    // One that failed is not noted: the read side hands it over in its turn and it is planned then.
    others.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') this.plannedAhead.set(placeOf(ahead[i].recorded.stream, ahead[i].recorded.revision), true);
    });
    if (own.status === 'rejected') throw own.reason;
  }

  private async schedule(envelope: SecurityEnvelope, stream: string, revision: bigint, webhooks: Webhooks): Promise<void> {
    const matching = webhooks.filter((webhook) => matches(webhook.settings, envelope));
    if (matching.length === 0) return;
    this.planned.remember(stream, revision, envelope);
    await Promise.all(
      matching.map(async (webhook) => {
        const deliveryId = deliveryIdFor(envelope.id, webhook.id);
        const decided = await this.commands.execute<ScheduleDelivery, Decided<DeliveryState>>(
          new ScheduleDelivery(deliveryId, envelope.organisation_id, webhook.id, envelope.id, envelope.event_type, envelope.project_id, stream, revision),
        );
        if (decided.appended && decided.events.length > 0) this.written.set(deliveryId, { state: decided.state, revision: decided.appended.nextExpectedRevision });
      }),
    );
  }

  /**
   * The security events after this one in its stream, if none of the organisation's webhooks changed after
   * it. The webhooks stream is read after the events, so every webhook change placed before the last of
   * them in the log is seen (positions are handed out in commit order): if the newest change is older than
   * the event in hand, none lies between it and any of them.
   */
  private async nextEvents(context: EventContext, organisationId: string): Promise<{ recorded: RecordedEvent; envelope: SecurityEnvelope }[]> {
    const following = await this.store.readStream(context.stream, { fromRevision: context.revision + 1n, maxCount: LOOKAHEAD });
    if (following.length === 0) return [];
    const [lastChange] = await this.store.readStream(webhooksStream(organisationId), { direction: 'backwards', maxCount: 1 }).catch((error: unknown) => {
      if (error instanceof StreamNotFound) return [];
      throw error;
    });
    if (!lastChange || comparePositions(lastChange.position, context.position) > 0) return [];
    return following.flatMap((recorded) => {
      const event = hydrate(recorded);
      return event instanceof SecurityEventRecorded && event.envelope.organisation_id === organisationId ? [{ recorded, envelope: event.envelope }] : [];
    });
  }
}

const placeOf = (stream: string, revision: bigint) => `${stream}@${revision}`;
