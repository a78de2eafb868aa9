import type { IEvent } from '@nestjs/cqrs';
import type { Aggregate } from '../cqrs/aggregate-store';
import { deterministicUuid } from '../contracts/ids';
import { IncidentNeedsManualTriage } from '../incidents/events/incident.events';
import { Incident, type IncidentState } from '../incidents/incident.aggregate';
import { TriageCompleted, TriageSkipped, TriageStarted, TriageStepCompleted, TriageStepFailed, type RunStatus } from './events/triage.events';
import type { StepResult } from './playbooks/playbook';


export interface TriageRun {
  runId: string;
  playbook: string;
  trigger: string;
  status: RunStatus;
  /** Completed steps, by key. */
  results: ReadonlyMap<string, StepResult>;
  /** Failed attempts so far, by step key. */
  attempts: ReadonlyMap<string, number>;
  /** When the last failed step may be tried again. */
  retryAt: string | null;
}

export interface TriageState {
  /** In the order they started. */
  runs: readonly TriageRun[];
}

/** The run id is derived from what started it, so the same trigger (a redelivered event) starts one run. */
export const runIdFor = (incidentId: string, trigger: string) => deterministicUuid('triage-run', incidentId, trigger);

/** Ids of the events of a run: a step's completion can be recorded once only, whoever records it. */
export const triageEventId = (incidentId: string, runId: string, ...key: string[]) => deterministicUuid('triage', incidentId, runId, ...key);

export const isUnfinished = (run: TriageRun) => run.status === 'pending' || run.status === 'running';

/** The run to work on: the oldest unfinished one (runs of one incident go one after the other). */
export const currentRun = (state: TriageState) => state.runs.find(isUnfinished);

function update(state: TriageState, runId: string, change: (run: TriageRun) => TriageRun): TriageState {
  return { runs: state.runs.map((run) => (run.runId === runId ? change(run) : run)) };
}

/** Auto-triage runs, folded from the incident stream (alongside the incident itself: see IncidentWithTriage). */
export const TriageRuns: Aggregate<TriageState> = {
  initial: () => ({ runs: [] }),
  evolve(state: TriageState, event: IEvent): TriageState {
    if (event instanceof TriageStarted) {
      if (state.runs.some((r) => r.runId === event.runId)) return state;
      const run: TriageRun = {
        runId: event.runId,
        playbook: event.playbook,
        trigger: event.trigger,
        status: 'pending',
        results: new Map(),
        attempts: new Map(),
        retryAt: null,
      };
      return { runs: [...state.runs, run] };
    }
    if (event instanceof TriageStepCompleted) {
      return update(state, event.runId, (run) => ({
        ...run,
        status: 'running',
        results: new Map(run.results).set(event.step, { outcome: event.outcome, evidence: event.evidence }),
        retryAt: null,
      }));
    }
    if (event instanceof TriageStepFailed) {
      return update(state, event.runId, (run) => ({
        ...run,
        status: 'running',
        attempts: new Map(run.attempts).set(event.step, event.attempt),
        retryAt: event.retryAt,
      }));
    }
    if (event instanceof TriageCompleted) return update(state, event.runId, (run) => ({ ...run, status: 'completed' }));
    if (event instanceof IncidentNeedsManualTriage) return update(state, event.runId, (run) => ({ ...run, status: 'failed' }));
    if (event instanceof TriageSkipped) {
      if (!state.runs.some((r) => r.runId === event.runId)) {
        const run: TriageRun = { runId: event.runId, playbook: event.playbook, trigger: event.trigger, status: 'skipped', results: new Map(), attempts: new Map(), retryAt: null };
        return { runs: [...state.runs, run] };
      }
      return update(state, event.runId, (run) => ({ ...run, status: 'skipped' }));
    }
    return state;
  },
};

export interface IncidentWithTriageState {
  incident: IncidentState;
  triage: TriageState;
}

/** The incident and its triage runs, from one read of its stream: what triage decides on. */
export const IncidentWithTriage: Aggregate<IncidentWithTriageState> = {
  initial: () => ({ incident: Incident.initial(), triage: TriageRuns.initial() }),
  evolve: (state, event) => ({ incident: Incident.evolve(state.incident, event), triage: TriageRuns.evolve(state.triage, event) }),
};
