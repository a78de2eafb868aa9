import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AggregateStore, keyed } from '../../cqrs/aggregate-store';
import { ReadSideRunner } from '../../cqrs/read-side.runner';
import { EVENT_STORE, type EventStore } from '../../event-store/event-store.port';
import { TENANCY, type Tenancy } from '../../contracts/tenancy';
import { isOperatorNotice } from '../catalog/event-catalog';
import { buildEnvelope, invalidEvent, type SecurityEnvelope } from '../envelope';
import { SecurityEventRecorded, securityEventStream } from '../events/security-event.events';
import { SECURITY_EVENTS_PROJECTION, SecurityEventsProjection } from '../projections/security-events.projection';
import { RecordSecurityEvent } from './security-event.commands';

export interface RecordedSecurityEvent {
  /** The event as recorded (the one already in the log, for a producer's replay). */
  envelope: SecurityEnvelope;
}

/** A producer waits this long at most for the listing to reach the log's head (it rebuilds from zero after an upgrade). */
const LISTING_WAIT_MS = 24 * 3_600_000;

/**
 * The log needs no aggregate: it has no invariant across events, so appends use 'any' and never conflict.
 * Events derived from others (every producer but the API) carry ids derived from their cause, and one
 * already recorded is not appended again: it is looked for in the listing, once the listing has read the
 * log up to its head — so what a producer recorded just before a crash (and handles again after it), or what
 * a producer replaying from zero recorded long ago, is found there, and none is recorded twice. Only two
 * instances appending the same event in the same instant can both write it; every reader (the listing, the
 * delivery planner, delivery ids) treats the id as the identity.
 */
@CommandHandler(RecordSecurityEvent)
export class RecordSecurityEventHandler implements ICommandHandler<RecordSecurityEvent, RecordedSecurityEvent> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly aggregates: AggregateStore,
    @Inject(TENANCY) private readonly tenancy: Tenancy,
    private readonly events: SecurityEventsProjection,
    private readonly readSide: ReadSideRunner,
  ) {}

  async execute({ draft, producer, eventId }: RecordSecurityEvent): Promise<RecordedSecurityEvent> {
    if (producer !== 'api') {
      const head = await this.store.headPosition();
      if (head) await this.readSide.catchUp([SECURITY_EVENTS_PROJECTION], head, LISTING_WAIT_MS);
    }
    if (producer === 'api' && isOperatorNotice(draft.event_type)) {
      throw invalidEvent(`'${draft.event_type}' is one of Towline's own operator notices and cannot be published`, [
        { path: '/event_type', message: 'must be one of the seed types (see GET /api/event-types)' },
      ]);
    }
    const existing = this.events.event(draft.organisation_id, eventId);
    if (existing) return { envelope: existing };
    if (draft.project_id !== null && !this.tenancy.project(draft.organisation_id, draft.project_id)) {
      throw invalidEvent(`Project '${draft.project_id}' is not a project of this organisation`, [
        { path: '/project_id', message: 'must be a project of the organisation' },
      ]);
    }
    const envelope = buildEnvelope(draft, eventId, new Date());
    await this.aggregates.record(securityEventStream(draft.organisation_id), [keyed(new SecurityEventRecorded(envelope, producer), eventId)], {
      expectedRevision: 'any',
    });
    return { envelope };
  }

}
