import type { ICommand } from '@nestjs/cqrs';
import type { NormalizedAlert } from '../../inbound/normalizers';
import type { IncidentTriage } from '../events/incident.events';

/** One normalized item of a received webhook, to be turned into (or onto) an incident. Idempotent. */
export class RecordAlert implements ICommand {
  constructor(
    readonly organisationId: string,
    readonly source: string,
    readonly projectId: string | null,
    readonly triage: IncidentTriage,
    readonly receiptId: string,
    readonly index: number,
    /** When Towline received the webhook: the incident's times and its number's year come from it, not from the clock. */
    readonly receivedAt: string,
    readonly alert: NormalizedAlert,
  ) {}
}
