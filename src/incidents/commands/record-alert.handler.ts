import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { AppendResult } from '../../event-store/event-store.port';
import {
  alertIdOf,
  decideAlert,
  formatIncidentNumber,
  Incident,
  incidentIdFor,
  incidentStream,
  type AlertResult,
} from '../incident.aggregate';
import { IncidentNumbers } from '../incident-numbers';
import { AggregateStore } from '../../cqrs/aggregate-store';
import { RecordAlert } from './record-alert.command';

export interface AlertOutcome {
  /** null when a resolve or acknowledge message found no incident to act on. */
  incidentId: string | null;
  incidentNumber: string | null;
  result: AlertResult | 'unmatched';
  /** Where the events landed, for read-your-writes; null when nothing was written. */
  appended: AppendResult | null;
}

@CommandHandler(RecordAlert)
export class RecordAlertHandler implements ICommandHandler<RecordAlert, AlertOutcome> {
  constructor(
    private readonly aggregates: AggregateStore,
    private readonly numbers: IncidentNumbers,
  ) {}

  async execute(command: RecordAlert): Promise<AlertOutcome> {
    const { organisationId, alert, receivedAt } = command;
    const incidentId = incidentIdFor(organisationId, command.source, alert.vendor_alert_id);

    // A number is claimed only for an incident that is about to open: claiming one that then went unused
    // would leave a gap. The claim is keyed by incident id, so if a concurrent request opens this incident
    // first, both hold the same number and the loser simply attaches.
    const { state, appended } = await this.aggregates.execute(incidentStream(incidentId), Incident, async (current) => {
      let number: string | null = null;
      if (alert.action === 'trigger' && !current.exists) {
        const year = new Date(receivedAt).getUTCFullYear();
        number = formatIncidentNumber(year, await this.numbers.claim(organisationId, year, incidentId));
      }
      await command.receiptRecorded;
      return decideAlert(current, { ...command, incidentId, number });
    });
    if (!state.exists) return { incidentId: null, incidentNumber: null, result: 'unmatched', appended };
    const result = state.results.get(alertIdOf(command.receiptId, command.index)) ?? 'unchanged';
    return { incidentId, incidentNumber: state.number, result, appended };
  }
}
