import type { ICommand } from '@nestjs/cqrs';
import type { TriageGroup } from '../events/triage.events';

/**
 * Start a run of the incident's playbook. `trigger` names what asked for it (`opened`, `alert:<alert id>`,
 * `linked:<incident id>`, `manual:<request id>` for a re-run asked through the API) and, through the run id
 * derived from it, makes a repeated request a no-op.
 */
export class StartTriage implements ICommand {
  constructor(
    readonly incidentId: string,
    readonly trigger: string,
  ) {}
}

/** What StartTriage did: the run it started, or why none (`run_pending`: a run waiting to start will see the same facts). */
export interface StartTriageOutcome {
  runId: string;
  started: boolean;
  reason: 'started' | 'already_started' | 'run_pending' | 'not_applicable' | 'skipped';
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
