import type { ICommand } from '@nestjs/cqrs';
import type { TriageGroup } from '../events/triage.events';

/**
 * Start a run of the incident's playbook. `trigger` names what asked for it (`opened`, `alert:<alert id>`,
 * `linked:<incident id>`) and, through the run id derived from it, makes a repeated request a no-op.
 */
export class StartTriage implements ICommand {
  constructor(
    readonly incidentId: string,
    readonly trigger: string,
  ) {}
}

/** Record on `group.incidentId` that triage folded `memberIncidentId` into it. */
export class LinkIncident implements ICommand {
  constructor(
    readonly group: TriageGroup,
    readonly memberIncidentId: string,
    readonly verdict: string,
    readonly score: number,
  ) {}
}
