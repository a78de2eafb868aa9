import { Inject, Injectable, Logger } from '@nestjs/common';
import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import { ReadSideRunner } from '../../cqrs/read-side.runner';
import { runWithContext } from '../../cqrs/request-context';
import { comparePositions, type Position, type RecordedEvent } from '../../event-store/event-store.port';
import { SourceRegistered, SourceRemoved, SourceUpdated, sourceStream } from '../../inbound/events/source.events';
import { SEVERITIES, type Severity } from '../../contracts/alert';
import {
  IncidentAssigned,
  IncidentClosed,
  IncidentNeedsManualTriage,
  IncidentSeverityChanged,
} from '../../incidents/events/incident.events';
import { Incident, incidentStream, type IncidentState } from '../../incidents/incident.aggregate';
import { ACTIVE_STATUSES, canTransition } from '../../incidents/incident-state-machine';
import { AggregateStore, keyed, type Aggregate, type KeyedEvent } from '../../cqrs/aggregate-store';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';
import { TriageCompleted, TriageSkipped, TriageStepCompleted, TriageStepFailed, type Verdict } from '../events/triage.events';
import { PlaybookConfiguration } from '../playbook-configuration';
import type { PlaybookSettings, RoutingRule } from '../playbook-settings';
import { PLAYBOOKS } from '../playbooks';
import type { Conclusion, IncidentSummary, Playbook, Sightings, Step } from '../playbooks/playbook';
import { SIGHTINGS_PROJECTION, SightingsProjection } from '../projections/sightings.projection';
import { PROJECT_MONITORING, type ProjectMonitoring } from '../../contracts/project-monitoring';
import {
  currentRun,
  IncidentWithTriage,
  isUnfinished,
  triageEventId,
  type IncidentWithTriageState,
  type TriageRun,
} from '../triage-runs';
import { TriageInputs } from './triage-inputs';
import { truncateText } from '../../http/text';

/** The first assignee a routing rule gives this conclusion, or null. Rules without a condition match anything. */
export function route(rules: readonly RoutingRule[], facts: { verdict: Verdict; severity: Severity; playbook: string; source: string; escalated: boolean }): string | null {
  const rule = rules.find(
    (r) =>
      (!r.verdict || r.verdict.includes(facts.verdict)) &&
      (!r.severity || r.severity.includes(facts.severity)) &&
      (r.playbook === undefined || r.playbook === facts.playbook) &&
      (r.source === undefined || r.source === facts.source) &&
      (r.escalated === undefined || r.escalated === facts.escalated),
  );
  return rule?.assignee ?? null;
}

/**
 * Triage's severity through the source's severity_mapping, as a vendor's value would go: the verdict
 * (`malicious: critical`) first, then the severity itself (`high: critical`), keys compared case-insensitively.
 */
export function mapSeverity(verdict: Verdict, severity: Severity, mapping: Readonly<Record<string, Severity>>): Severity {
  const lowered = new Map(Object.entries(mapping).map(([key, value]) => [key.trim().toLowerCase(), value]));
  const mapped = lowered.get(verdict) ?? lowered.get(severity);
  return mapped && (SEVERITIES as readonly string[]).includes(mapped) ? mapped : severity;
}

const digest = (value: unknown) => createHash('sha256').update(canonicalize(value) ?? '').digest('hex');
const message = (error: unknown) => truncateText(error instanceof Error ? error.message : String(error), 1_000);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('aborted'));
    const abort = () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', abort);
      resolve();
    }, ms);
    signal.addEventListener('abort', abort, { once: true });
  });
}

/** Where this incident first recorded a correlation key (the TriageStepCompleted whose evidence lists it). */
function sightingPosition(history: readonly RecordedEvent[], key: string): Position | undefined {
  return history.find((e) => {
    const keys = e.type === 'TriageStepCompleted' ? (e.data.evidence as { correlation_keys?: unknown } | null)?.correlation_keys : undefined;
    return Array.isArray(keys) && keys.includes(key);
  })?.position;
}

/**
 * Runs playbooks, one step at a time, on the incident's own stream. Each step is decided afresh from the
 * stream: the current run is the oldest unfinished one, its next step the first without a
 * TriageStepCompleted — so a run interrupted anywhere (a crash, a kill, a second instance) resumes at the
 * first unfinished step and never repeats a finished one, and the keyed event ids make the store itself
 * refuse a twin. A failing step records TriageStepFailed with its retry time (the triage worker is woken
 * then, from the persisted due time); after the last attempt the incident needs manual triage.
 */
@Injectable()
export class TriageRunner {
  private readonly logger = new Logger('Triage');
  private readonly stopping = new AbortController();

  constructor(
    private readonly aggregates: AggregateStore,
    private readonly inputs: TriageInputs,
    private readonly sightings: SightingsProjection,
    private readonly readSide: ReadSideRunner,
    @Inject(READ_MODEL_DATABASE) private readonly readModels: ReadModelDatabase,
    private readonly playbooks: PlaybookConfiguration,
    @Inject(PROJECT_MONITORING) private readonly monitoring: ProjectMonitoring,
  ) {}

  private get settings(): PlaybookSettings {
    return this.playbooks.settings;
  }

  /** Aborts running steps (they are not recorded as failed: the next start runs them again). */
  stop(): void {
    this.stopping.abort();
  }

  /** Works through the incident's unfinished runs until none is left, or the current one waits for a retry. */
  async advance(incidentId: string): Promise<void> {
    const stream = incidentStream(incidentId);
    while (!this.stopping.signal.aborted) {
      const { state, recorded } = await this.aggregates.load(stream, IncidentWithTriage);
      const run = currentRun(state.triage);
      if (!run) return;
      const context = { correlationId: run.runId, causationId: run.runId, actor: 'system:triage' };
      const proceed = await runWithContext(context, () => this.next(incidentId, state, recorded, run));
      if (!proceed) return;
    }
  }

  /** One move of the current run; false when the run has to wait (a retry later, or shutdown). */
  private async next(incidentId: string, state: IncidentWithTriageState, recorded: RecordedEvent[], run: TriageRun): Promise<boolean> {
    const playbook = PLAYBOOKS.get(run.playbook);
    if (!playbook || (await this.paused(state.incident))) {
      const reason = playbook ? 'monitoring_paused' : 'unknown_playbook';
      const skipped = new TriageSkipped(incidentId, run.runId, run.playbook, run.trigger, reason, new Date().toISOString());
      await this.write(incidentId, run, () => [keyed(skipped, triageEventId(incidentId, run.runId, 'skipped'))]);
      this.logger.log(`Triage of ${state.incident.number} skipped: ${reason}`);
      return true;
    }
    const step = playbook.steps.find((s) => !run.results.has(s.key));
    if (!step) return this.conclude(incidentId, state, recorded, run, playbook);
    if (run.retryAt !== null && Date.parse(run.retryAt) > Date.now()) return false;
    return this.runStep(incidentId, state, recorded, run, playbook, step);
  }

  private async runStep(
    incidentId: string,
    state: IncidentWithTriageState,
    recorded: RecordedEvent[],
    run: TriageRun,
    playbook: Playbook,
    step: Step,
  ): Promise<boolean> {
    const input = await this.inputs.build(state.incident, recorded, playbook.name);
    const inputDigest = digest({ step: step.key, input, results: Object.fromEntries(run.results) });
    const name = `${playbook.name}.${step.key}`;
    this.logger.log(`Triage step ${name} started for ${input.incident.number} (run ${run.runId})`);
    const started = performance.now();
    const { stepTimeoutSeconds } = this.settings.retry;
    const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(stepTimeoutSeconds * 1000)]);
    const context = { results: run.results, sightings: this.sightingsFor(input.incident.organisationId, incidentId, recorded), signal };
    try {
      const work = (async () => {
        // The testing delay counts as the step's own time: a delay beyond the timeout is a step that timed out.
        const delay = this.settings.stepDelaysMs[name];
        if (delay) await sleep(delay, signal);
        return step.run(input, context);
      })();
      const result = await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          const abort = () => reject(new Error(this.stopping.signal.aborted ? 'shutting down' : `step timed out after ${stepTimeoutSeconds} s`));
          if (signal.aborted) abort();
          else signal.addEventListener('abort', abort, { once: true });
        }),
      ]);
      const completed = new TriageStepCompleted(
        incidentId,
        run.runId,
        step.key,
        inputDigest,
        result.outcome,
        result.evidence,
        Math.round(performance.now() - started),
        new Date().toISOString(),
      );
      await this.write(incidentId, run, (current) =>
        current.results.has(step.key) ? [] : [keyed(completed, triageEventId(incidentId, run.runId, step.key))],
      );
      this.logger.log(`Triage step ${name} of ${input.incident.number}: ${result.outcome}`);
      return true;
    } catch (error) {
      if (this.stopping.signal.aborted) return false;
      return this.recordFailure(incidentId, input.incident.number, run, step, error);
    }
  }

  private async recordFailure(incidentId: string, number: string, run: TriageRun, step: Step, error: unknown): Promise<boolean> {
    const attempt = (run.attempts.get(step.key) ?? 0) + 1;
    const now = Date.now();
    const at = new Date(now).toISOString();
    const id = (...key: string[]) => triageEventId(incidentId, run.runId, step.key, 'failed', String(attempt), ...key);
    const { maxAttempts, backoffSeconds } = this.settings.retry;
    const last = attempt >= maxAttempts;
    // Exponential backoff: 5 s, 10 s, 20 s … with the default backoff_seconds of 5.
    const retryAt = last ? null : new Date(now + backoffSeconds * 1000 * 2 ** (attempt - 1)).toISOString();
    const events: KeyedEvent[] = [keyed(new TriageStepFailed(incidentId, run.runId, step.key, attempt, message(error), retryAt, at), id())];
    if (last) events.push(keyed(new IncidentNeedsManualTriage(incidentId, run.runId, step.key, attempt, message(error), at), id('manual')));
    await this.write(incidentId, run, (current) => ((current.attempts.get(step.key) ?? 0) >= attempt ? [] : events));
    if (last) this.logger.error(`Triage step ${run.playbook}.${step.key} of ${number} failed ${attempt} times: ${message(error)}; it needs manual triage`);
    else this.logger.warn(`Triage step ${run.playbook}.${step.key} of ${number} failed (attempt ${attempt}): ${message(error)}; retry at ${retryAt}`);
    return last;
  }

  private async conclude(incidentId: string, state: IncidentWithTriageState, recorded: RecordedEvent[], run: TriageRun, playbook: Playbook): Promise<boolean> {
    const input = await this.inputs.build(state.incident, recorded, playbook.name);
    const conclusion = playbook.conclude(input, run.results);
    const mapping = await this.severityMapping(state.incident);
    const severity = mapSeverity(conclusion.verdict, conclusion.severity, mapping);
    await this.write(incidentId, run, (_, incident) => this.conclusionEvents(incidentId, incident, run, playbook, { ...conclusion, severity }, input.settings.routing));
    this.logger.log(`Triage of ${input.incident.number}: ${conclusion.verdict} (score ${conclusion.score}), severity ${severity}`);
    return true;
  }

  /** TriageCompleted and what it leads to, in one append: a severity, a closure (benign, or folded into a group), an assignee. */
  private conclusionEvents(
    incidentId: string,
    incident: IncidentState,
    run: TriageRun,
    playbook: Playbook,
    conclusion: Conclusion,
    routing: readonly RoutingRule[],
  ): KeyedEvent[] {
    const at = new Date().toISOString();
    const id = (key: string) => triageEventId(incidentId, run.runId, key);
    const { verdict, score, reasons, severity, escalated, groupInto } = conclusion;
    const events = [keyed(new TriageCompleted(incidentId, run.runId, playbook.name, verdict, score, reasons, severity, escalated, groupInto, at), id('completed'))];
    if (severity !== incident.severity && ACTIVE_STATUSES.includes(incident.status)) {
      events.push(keyed(new IncidentSeverityChanged(incidentId, incident.severity, severity, 'triage', at), id('severity')));
    }
    // Triage acts on its own only while nobody has touched the incident (status open).
    if (incident.status === 'open' && (groupInto || verdict === 'benign')) {
      const note = groupInto
        ? `Folded into ${groupInto.number} (${groupInto.kind} ${groupInto.key})`
        : `Benign according to ${playbook.name} (score ${score}): ${reasons.join('; ')}`;
      events.push(keyed(new IncidentClosed(incidentId, at, groupInto ? 'duplicate' : 'benign', note, groupInto?.incidentId ?? null), id('close')));
    } else if (verdict !== 'benign' && incident.assignee === null && canTransition(incident.status, 'assign')) {
      const assignee = route(routing, { verdict, severity, playbook: playbook.name, source: incident.source ?? '', escalated });
      if (assignee) events.push(keyed(new IncidentAssigned(incidentId, assignee, null, at), id('assign')));
    }
    return events;
  }

  /** Appends what `decide` says, provided the run is still unfinished on the fresh stream (nobody got there first). */
  private async write(
    incidentId: string,
    run: TriageRun,
    decide: (current: TriageRun, incident: IncidentState) => KeyedEvent[],
  ): Promise<void> {
    await this.aggregates.execute(incidentStream(incidentId), IncidentWithTriage, (state) => {
      const current = state.triage.runs.find((r) => r.runId === run.runId);
      return current && isUnfinished(current) ? decide(current, state.incident) : [];
    });
  }

  private async paused(incident: IncidentState): Promise<boolean> {
    return incident.projectId !== null && incident.organisationId !== null && (await this.monitoring.isProjectPaused(incident.organisationId, incident.projectId));
  }

  private async severityMapping(incident: IncidentState): Promise<Record<string, Severity>> {
    if (!incident.organisationId || !incident.source) return {};
    const { state } = await this.aggregates.load(sourceStream(incident.organisationId, incident.source), SourceSeverityMapping);
    return state;
  }

  /**
   * Earlier incidents sharing a correlation key, from the sightings projection — first caught up to where
   * this incident recorded the key, so everything recorded before it is there. A projection that cannot
   * catch up fails the step (it is retried), rather than answering from a partial table.
   */
  private sightingsFor(organisationId: string, incidentId: string, history: readonly RecordedEvent[]): Sightings {
    return {
      earlier: async (key, windowMs) => {
        const recordedAt = sightingPosition(history, key);
        if (!recordedAt) return [];
        await this.readSide.catchUp([SIGHTINGS_PROJECTION], recordedAt, 10_000);
        const reached = this.readModels.checkpoint(SIGHTINGS_PROJECTION);
        if (!reached || comparePositions(reached, recordedAt) < 0) throw new Error('correlation sightings are not caught up yet');
        return this.sightings.earlier(organisationId, incidentId, key, windowMs);
      },
      incident: async (id): Promise<IncidentSummary | null> => {
        const { state } = await this.aggregates.load(incidentStream(id), Incident);
        if (!state.exists || state.organisationId !== organisationId || !state.number) return null;
        return { incidentId: id, number: state.number, status: state.status, duplicateOf: state.duplicateOf };
      },
    };
  }
}

/** A source's severity mapping, folded from its own stream's events (inbound's contract), as inbound's Source does. */
const SourceSeverityMapping: Aggregate<Record<string, Severity>> = {
  initial: () => ({}),
  evolve: (state, event) => {
    if (event instanceof SourceRegistered || event instanceof SourceUpdated) return event.settings.severityMapping;
    if (event instanceof SourceRemoved) return {};
    return state;
  },
};
