import type { IEvent } from '@nestjs/cqrs';
import type { JsonObject } from '../event-store/event-store.port';
import { IncidentNeedsManualTriage } from './events/incident.events';
import {
  TriageCompleted,
  TriageSkipped,
  TriageStarted,
  TriageStepCompleted,
  TriageStepFailed,
  type TriageGroup,
  type RunStatus,
} from '../triage/events/triage.events';

export interface TriageStepReport {
  step: string;
  outcome: string;
  evidence: JsonObject;
  input_digest: string;
  duration_ms: number;
  completed_at: string;
}

export interface TriageFailureReport {
  step: string;
  attempt: number;
  error: string;
  retry_at: string | null;
  failed_at: string;
}

export interface TriageRunReport {
  run_id: string;
  playbook: string;
  trigger: string;
  status: RunStatus;
  started_at: string | null;
  finished_at: string | null;
  verdict: string | null;
  score: number | null;
  reasons: string[];
  severity: string | null;
  escalated: boolean;
  grouped_into: TriageGroup | null;
  skipped_reason: string | null;
  steps: TriageStepReport[];
  failures: TriageFailureReport[];
}

/** Every triage run of an incident, with its steps and their evidence, from the incident's own events (pure). */
export function triageReport(events: readonly IEvent[]): TriageRunReport[] {
  const runs = new Map<string, TriageRunReport>();
  const run = (runId: string, playbook = '', trigger = ''): TriageRunReport => {
    let found = runs.get(runId);
    if (!found) {
      found = {
        run_id: runId,
        playbook,
        trigger,
        status: 'pending',
        started_at: null,
        finished_at: null,
        verdict: null,
        score: null,
        reasons: [],
        severity: null,
        escalated: false,
        grouped_into: null,
        skipped_reason: null,
        steps: [],
        failures: [],
      };
      runs.set(runId, found);
    }
    return found;
  };
  for (const event of events) {
    if (event instanceof TriageStarted) Object.assign(run(event.runId, event.playbook, event.trigger), { started_at: event.startedAt });
    else if (event instanceof TriageStepCompleted) {
      const found = run(event.runId);
      found.status = 'running';
      found.steps.push({
        step: event.step,
        outcome: event.outcome,
        evidence: event.evidence,
        input_digest: event.inputDigest,
        duration_ms: event.durationMs,
        completed_at: event.completedAt,
      });
    } else if (event instanceof TriageStepFailed) {
      const found = run(event.runId);
      found.status = 'running';
      found.failures.push({ step: event.step, attempt: event.attempt, error: event.error, retry_at: event.retryAt, failed_at: event.failedAt });
    } else if (event instanceof TriageCompleted) {
      Object.assign(run(event.runId, event.playbook), {
        status: 'completed',
        finished_at: event.completedAt,
        verdict: event.verdict,
        score: event.score,
        reasons: event.reasons,
        severity: event.severity,
        escalated: event.escalated,
        grouped_into: event.groupedInto,
      });
    } else if (event instanceof TriageSkipped) {
      Object.assign(run(event.runId, event.playbook, event.trigger), { status: 'skipped', finished_at: event.skippedAt, skipped_reason: event.reason });
    } else if (event instanceof IncidentNeedsManualTriage) {
      Object.assign(run(event.runId), { status: 'failed', finished_at: event.at });
    }
  }
  return [...runs.values()];
}
