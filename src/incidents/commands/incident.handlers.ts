import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AggregateStore } from '../../cqrs/aggregate-store';
import {
  alertIdOf,
  decideAlert,
  decideChange,
  formatIncidentNumber,
  Incident,
  incidentIdFor,
  incidentStream,
} from '../incident.aggregate';
import { IncidentNumbers } from '../incident-numbers';
import { ChangeIncident, RecordAlert, type AlertOutcome, type ChangeOutcome } from './incident.commands';

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
    const { state } = await this.aggregates.execute(incidentStream(incidentId), Incident, async (current) => {
      let number: string | null = null;
      if (alert.action === 'trigger' && !current.exists) {
        const year = new Date(receivedAt).getUTCFullYear();
        number = formatIncidentNumber(year, await this.numbers.claim(organisationId, year, incidentId));
      }
      await command.receiptRecorded;
      return decideAlert(current, { ...command, incidentId, number });
    });
    if (!state.exists) return { incidentId: null, incidentNumber: null, result: 'unmatched' };
    const result = state.results.get(alertIdOf(command.receiptId, command.index)) ?? 'unchanged';
    return { incidentId, incidentNumber: state.number, result };
  }
}

/** Decided on the incident's stream through the lifecycle table. */
@CommandHandler(ChangeIncident)
export class ChangeIncidentHandler implements ICommandHandler<ChangeIncident, ChangeOutcome> {
  constructor(private readonly aggregates: AggregateStore) {}

  async execute({ incidentId, change }: ChangeIncident): Promise<ChangeOutcome> {
    const { events } = await this.aggregates.execute(incidentStream(incidentId), Incident, (state) =>
      decideChange(state, incidentId, change, new Date().toISOString()),
    );
    return { events };
  }
}
