import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { deterministicUuid } from '../../inbound/deterministic-id';
import { IncidentLinked } from '../../incidents/events/incident.events';
import { Incident, incidentStream } from '../../incidents/incident.aggregate';
import { ACTIVE_STATUSES } from '../../incidents/incident-state-machine';
import { AggregateStore, keyed } from '../../cqrs/aggregate-store';
import { TriageSkipped, TriageStarted } from '../events/triage.events';
import { DEFAULT_PLAYBOOK, PLAYBOOKS } from '../playbooks';
import { PROJECT_MONITORING, type ProjectMonitoring } from '../project-monitoring';
import { IncidentWithTriage, runIdFor, triageEventId } from '../triage-runs';
import { LinkIncident, StartTriage } from './triage.commands';

/**
 * Starts a run, or decides not to: only for an auto-triage incident; a re-evaluation only while the incident
 * is active, when its playbook asks for it, and not while a run is already waiting to start (that run will
 * see the new facts anyway). A paused project's run is recorded as skipped, so the stream says why no triage
 * happened.
 */
@CommandHandler(StartTriage)
export class StartTriageHandler implements ICommandHandler<StartTriage> {
  constructor(
    private readonly aggregates: AggregateStore,
    @Inject(PROJECT_MONITORING) private readonly monitoring: ProjectMonitoring,
  ) {}

  async execute({ incidentId, trigger }: StartTriage): Promise<void> {
    const stream = incidentStream(incidentId);
    const { state } = await this.aggregates.load(stream, Incident);
    if (!state.exists || !state.triage.autoTriage) return;
    const { organisationId, projectId } = state;
    const paused = projectId !== null && organisationId !== null && (await this.monitoring.isProjectPaused(organisationId, projectId));
    const runId = runIdFor(incidentId, trigger);
    await this.aggregates.execute(stream, IncidentWithTriage, ({ incident, triage }) => {
      if (triage.runs.some((r) => r.runId === runId)) return [];
      const name = incident.triage.playbook ?? DEFAULT_PLAYBOOK;
      const playbook = PLAYBOOKS.get(name);
      if (trigger !== 'opened') {
        if (!ACTIVE_STATUSES.includes(incident.status) || triage.runs.some((r) => r.status === 'pending')) return [];
        if (trigger.startsWith('alert:') && !playbook?.reevaluateOnAlert) return [];
      }
      const at = new Date().toISOString();
      if (!playbook || paused) {
        const skipped = new TriageSkipped(incidentId, runId, name, trigger, playbook ? 'monitoring_paused' : 'unknown_playbook', at);
        return [keyed(skipped, triageEventId(incidentId, runId, 'skipped'))];
      }
      return [keyed(new TriageStarted(incidentId, runId, name, trigger, at), triageEventId(incidentId, runId, 'started'))];
    });
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
