import type { IEvent } from '@nestjs/cqrs';
import { DomainEvent } from '../../cqrs/domain-event';
import type { JsonObject } from '../../event-store/event-store.port';
import type { Severity } from '../../contracts/alert';

/** Where a triage run stands, as its events tell it. */
export type RunStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped';

/**
 * Auto-triage, recorded on the incident's own stream (`incident-<id>`), so that every step and its evidence
 * is replayable and explainable beside the alerts it judged. A run is one pass of a playbook; its id is
 * derived from what started it, and each step's event id from (incident, run, step), so a run resumed after
 * a crash never records a finished step twice.
 */

export const VERDICTS = ['malicious', 'suspicious', 'benign'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** `trigger`: `opened`, `alert:<alert id>` (re-evaluation) or `linked:<incident id>` (a campaign grew). */
@DomainEvent('TriageStarted')
export class TriageStarted implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly runId: string,
    readonly playbook: string,
    readonly trigger: string,
    readonly startedAt: string,
  ) {}
}

/** `inputDigest`: SHA-256 of the canonical JSON (RFC 8785) of what the step was given. */
@DomainEvent('TriageStepCompleted')
export class TriageStepCompleted implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly runId: string,
    readonly step: string,
    readonly inputDigest: string,
    readonly outcome: string,
    readonly evidence: JsonObject,
    readonly durationMs: number,
    readonly completedAt: string,
  ) {}
}

/** One failed attempt. `retryAt`: when it is tried again; null after the last attempt (then IncidentNeedsManualTriage). */
@DomainEvent('TriageStepFailed')
export class TriageStepFailed implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly runId: string,
    readonly step: string,
    readonly attempt: number,
    readonly error: string,
    readonly retryAt: string | null,
    readonly failedAt: string,
  ) {}
}

/** The incident a campaign or duplicate was folded into. */
export interface TriageGroup {
  incidentId: string;
  number: string;
  kind: 'campaign' | 'duplicate';
  key: string;
}

/**
 * The playbook's conclusion. `severity` is what triage set (after the source's severity_mapping), `escalated`
 * whether a rule escalated it; `groupedInto` names the incident it belongs to (a campaign or duplicate).
 * The actions it led to (IncidentSeverityChanged, IncidentAssigned, IncidentClosed) follow in the same append.
 */
@DomainEvent('TriageCompleted')
export class TriageCompleted implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly runId: string,
    readonly playbook: string,
    readonly verdict: Verdict,
    readonly score: number,
    readonly reasons: string[],
    readonly severity: Severity,
    readonly escalated: boolean,
    readonly groupedInto: TriageGroup | null,
    readonly completedAt: string,
  ) {}
}

/** A run that did not judge the incident: its project's monitoring is paused, or its playbook is unknown to this build. */
@DomainEvent('TriageSkipped')
export class TriageSkipped implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly runId: string,
    readonly playbook: string,
    readonly trigger: string,
    readonly reason: 'monitoring_paused' | 'unknown_playbook',
    readonly skippedAt: string,
  ) {}
}
