import { CommandHandler, type ICommandHandler, type IEvent } from '@nestjs/cqrs';
import type { AppendResult } from '../../event-store/event-store.port';
import { decideChange, Incident, incidentStream } from '../incident.aggregate';
import { AggregateStore } from '../../cqrs/aggregate-store';
import { ChangeIncident } from './change-incident.command';

export interface ChangeOutcome {
  events: IEvent[];
  /** null when nothing had to change. */
  appended: AppendResult | null;
}

/** Decided on the incident's stream through the lifecycle table. */
@CommandHandler(ChangeIncident)
export class ChangeIncidentHandler implements ICommandHandler<ChangeIncident, ChangeOutcome> {
  constructor(private readonly aggregates: AggregateStore) {}

  async execute({ incidentId, change }: ChangeIncident): Promise<ChangeOutcome> {
    const { events, appended } = await this.aggregates.execute(incidentStream(incidentId), Incident, (state) =>
      decideChange(state, incidentId, change, new Date().toISOString()),
    );
    return { events, appended };
  }
}
