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
    /**
     * Settles once the receipt these alerts come from is durable. The incident's number is claimed while the
     * receipt is still being written (one group commit for both), but the incident's own events are appended
     * only after it: nothing may refer to a receipt that is not recorded. Absent: the receipt is durable.
     */
    readonly receiptRecorded?: Promise<unknown>,
  ) {}
}
