import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { toEventData } from '../../cqrs/domain-event';
import { ReadSideRunner } from '../../cqrs/read-side.runner';
import { eventMetadata } from '../../cqrs/request-context';
import { StreamNotFound } from '../../event-store/event-store.errors';
import { EVENT_STORE, type AppendResult, type EventStore } from '../../event-store/event-store.port';
import { OrganisationsProjection } from '../../organisations/projections/organisations.projection';
import { buildEnvelope, invalidEvent, type SecurityEnvelope } from '../envelope';
import { SecurityEventRecorded, securityEventStream } from '../events/security-event.events';
import { SECURITY_EVENTS_PROJECTION, SecurityEventsProjection } from '../projections/security-events.projection';
import { RecordSecurityEvent } from './security-event.commands';

export interface RecordedSecurityEvent {
  envelope: SecurityEnvelope;
  /** null when an event with this id was already in the log (a producer's replay). */
  appended: AppendResult | null;
}

/** How far back the log's tail is searched for a derived event recorded moments ago. */
const RECENT_EVENTS = 100;
const LISTING_POLL_MS = 50;

/**
 * The log needs no aggregate: it has no invariant across events, so appends use 'any' and never conflict.
 * Events derived from others (every producer but the API) carry ids derived from their cause, and one
 * already recorded is not appended again: it is looked for in the listing, and in the log's tail, where a
 * producer that crashed before its checkpoint — or the same producer on another instance sharing the store —
 * has just put it. The listing is consulted only once it has caught up with the store, so a producer
 * replaying from zero (read-models.db deleted) finds every event it recorded before and records none twice.
 * Only two instances appending the same event in the same instant can both write it; every reader (the
 * listing, the delivery planner, delivery ids) treats the id as the identity.
 */
@CommandHandler(RecordSecurityEvent)
export class RecordSecurityEventHandler implements ICommandHandler<RecordSecurityEvent, RecordedSecurityEvent> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly organisations: OrganisationsProjection,
    private readonly events: SecurityEventsProjection,
    private readonly readSide: ReadSideRunner,
  ) {}

  async execute({ draft, producer, eventId }: RecordSecurityEvent): Promise<RecordedSecurityEvent> {
    if (producer !== 'api') await this.listingCaughtUp();
    const existing =
      this.events.event(draft.organisation_id, eventId) ??
      (producer === 'api' ? undefined : await this.recent(draft.organisation_id, eventId));
    if (existing) return { envelope: existing, appended: null };
    if (draft.project_id !== null && !this.organisations.project(draft.organisation_id, draft.project_id)) {
      throw invalidEvent(`Project '${draft.project_id}' is not a project of this organisation`, [
        { path: '/project_id', message: 'must be a project of the organisation' },
      ]);
    }
    const envelope = buildEnvelope(draft, eventId, new Date());
    const appended = await this.store.append(
      securityEventStream(draft.organisation_id),
      [toEventData(new SecurityEventRecorded(envelope, producer), eventMetadata(), eventId)],
      { expectedRevision: 'any' },
    );
    return { envelope, appended };
  }

  private async listingCaughtUp(): Promise<void> {
    for (;;) {
      const listing = this.readSide.status().find((c) => c.name === SECURITY_EVENTS_PROJECTION);
      if (!listing || listing.state === 'live' || listing.state === 'stopped') return;
      await new Promise((resolve) => setTimeout(resolve, LISTING_POLL_MS));
    }
  }

  private async recent(organisationId: string, eventId: string): Promise<SecurityEnvelope | undefined> {
    try {
      const tail = await this.store.readStream(securityEventStream(organisationId), { direction: 'backwards', maxCount: RECENT_EVENTS });
      const found = tail.find((recorded) => recorded.id === eventId);
      return found ? (found.data.envelope as unknown as SecurityEnvelope) : undefined;
    } catch (error) {
      if (error instanceof StreamNotFound) return undefined;
      throw error;
    }
  }
}
