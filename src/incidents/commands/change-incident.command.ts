import type { ICommand } from '@nestjs/cqrs';
import type { IncidentChange } from '../incident.aggregate';

/** A lifecycle change asked for through the API: assign, acknowledge, resolve, verify, close, reopen. */
export class ChangeIncident implements ICommand {
  constructor(
    readonly incidentId: string,
    readonly change: IncidentChange,
  ) {}
}
