import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { deterministicUuid } from '../../contracts/ids';
import { IncidentLinked } from '../../incidents/events/incident.events';
import { Incident, incidentStream } from '../../incidents/incident.aggregate';
import { ACTIVE_STATUSES } from '../../incidents/incident-state-machine';
import { AggregateStore, keyed } from '../../cqrs/aggregate-store';
import { TriageSkipped, TriageStarted } from '../events/triage.events';
import { DEFAULT_PLAYBOOK, PLAYBOOKS } from '../playbooks';
import { PROJECT_MONITORING, type ProjectMonitoring } from '../../contracts/project-monitoring';
import { IncidentWithTriage, runIdFor, triageEventId } from '../triage-runs';
import { LinkIncident, StartTriage, type StartTriageOutcome } from './triage.commands';

/**
 * Starts a run, or decides not to: only for an auto-triage incident; a re-evaluation only while the incident
 * is active, when its playbook asks for it, and not while a run is already waiting to start (that run will
 * see the new facts anyway). A paused project's run is recorded as skipped, so the stream says why no triage
 * happened.
 */
@CommandHandler(StartTriage)
export class StartTriageHandler implements ICommandHandler<StartTriage, StartTriageOutcome> {
  constructor(
    private readonly aggregates: AggregateStore,
    @Inject(PROJECT_MONITORING) private readonly monitoring: ProjectMonitoring,
  ) {}

  async execute({ incidentId, trigger }: StartTriage): Promise<StartTriageOutcome> {
    const stream = incidentStream(incidentId);
    const runId = runIdFor(incidentId, trigger);
    // A re-run asked for by someone is wanted whatever the source's auto_triage says, and on a settled
    // incident too (its settings or lists may have changed since); automatic triggers need auto-triage.
    const manual = trigger.startsWith('manual:');
    const { state } = await this.aggregates.load(stream, Incident);
    if (!state.exists || (!manual && !state.triage.autoTriage)) return { runId, started: false, reason: 'not_applicable' };
    const { organisationId, projectId } = state;
    const paused = projectId !== null && organisationId !== null && (await this.monitoring.isProjectPaused(organisationId, projectId));
    let reason: StartTriageOutcome['reason'] = 'started';
    const none = (why: StartTriageOutcome['reason']) => {
      reason = why;
      return [];
    };
    await this.aggregates.execute(stream, IncidentWithTriage, ({ incident, triage }) => {
      reason = 'started';
      if (triage.runs.some((r) => r.runId === runId)) return none('already_started');
      const name = incident.triage.playbook ?? DEFAULT_PLAYBOOK;
      const playbook = PLAYBOOKS.get(name);
      if (trigger !== 'opened') {
        if (triage.runs.some((r) => r.status === 'pending')) return none('run_pending');
        if (!manual && !ACTIVE_STATUSES.includes(incident.status)) return none('not_applicable');
        if (trigger.startsWith('alert:') && !playbook?.reevaluateOnAlert) return none('not_applicable');
      }
      const at = new Date().toISOString();
      if (!playbook || paused) {
        reason = 'skipped';
        const skipped = new TriageSkipped(incidentId, runId, name, trigger, playbook ? 'monitoring_paused' : 'unknown_playbook', at);
        return [keyed(skipped, triageEventId(incidentId, runId, 'skipped'))];
      }
      return [keyed(new TriageStarted(incidentId, runId, name, trigger, at), triageEventId(incidentId, runId, 'started'))];
    });
    return { runId, started: reason === 'started', reason };
  }
}

/** The group's count is decided on the group incident's own stream, so members joining at once count right. */
@CommandHandler(LinkIncident)
export class LinkIncidentHandler implements ICommandHandler<LinkIncident> {
  constructor(private readonly aggregates: AggregateStore) {}

  async execute({ group, memberIncidentId, verdict, score }: LinkIncident): Promise<void> {
    const { state: member } = await this.aggregates.load(incidentStream(memberIncidentId), Incident);
    if (!member.number) return;
    await this.aggregates.execute(incidentStream(group.incidentId), Incident, (state) => {
      if (!state.exists || state.members.includes(memberIncidentId)) return [];
      const linked = new IncidentLinked(
        group.incidentId,
        memberIncidentId,
        member.number!,
        group.kind,
        group.key,
        verdict,
        score,
        state.members.length + 2,
        new Date().toISOString(),
      );
      return [keyed(linked, deterministicUuid('incident-linked', group.incidentId, memberIncidentId))];
    });
  }
}
