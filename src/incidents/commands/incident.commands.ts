import type { ICommand, IEvent } from '@nestjs/cqrs';
import type { NormalizedAlert } from '../../contracts/alert';
import type { AlertResult, IncidentTriage } from '../events/incident.events';
import type { IncidentChange } from '../incident.aggregate';

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

/** What RecordAlert answers. */
export interface AlertOutcome {
  /** null when a resolve or acknowledge message found no incident to act on. */
  incidentId: string | null;
  incidentNumber: string | null;
  result: AlertResult | 'unmatched';
}

/** A lifecycle change asked for through the API: assign, acknowledge, resolve, verify, close, reopen. */
export class ChangeIncident implements ICommand {
  constructor(
    readonly incidentId: string,
    readonly change: IncidentChange,
  ) {}
}

export interface ChangeOutcome {
  /** What the change recorded (none when nothing had to change). */
  events: IEvent[];
}
