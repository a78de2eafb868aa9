import type { IEvent } from '@nestjs/cqrs';
import { DomainEvent } from '../../cqrs/domain-event';
import type { SecurityEnvelope } from '../envelope';

/**
 * Stream `securityEvent-<organisationId>`: the organisation's security-event log, the immutable audit
 * record of everything emitted. An event is appended here before any delivery is planned for it (the
 * delivery planner reads this log), so nothing reaches a webhook without being in the log first.
 */
export const securityEventStream = (organisationId: string) => `securityEvent-${organisationId}`;

/** Who produced the event: the API, or one of Towline's own producers. */
export type SecurityEventProducer = 'api' | 'monitoring' | 'incidents' | 'posture' | 'drift' | 'delivery';

/** The envelope exactly as it is delivered (its `id` is this event's id too). */
@DomainEvent('SecurityEventRecorded')
export class SecurityEventRecorded implements IEvent {
  constructor(
    readonly envelope: SecurityEnvelope,
    readonly producer: SecurityEventProducer,
  ) {}
}
