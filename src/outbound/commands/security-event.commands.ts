import type { ICommand } from '@nestjs/cqrs';
import type { SecurityEventDraft } from '../envelope';
import type { SecurityEventProducer } from '../events/security-event.events';

/**
 * Validate a draft against the catalog and append it to the organisation's security-event log. `eventId` is
 * given by producers that derive events from others (so a replay names the same event); the API's events
 * get a fresh one.
 */
export class RecordSecurityEvent implements ICommand {
  constructor(
    readonly draft: SecurityEventDraft,
    readonly producer: SecurityEventProducer,
    readonly eventId: string,
  ) {}
}
