import type { IEvent } from '@nestjs/cqrs';
import type { Aggregate } from '../cqrs/aggregate-store';
import { deterministicUuid } from '../contracts/ids';
import { SEVERITIES, type AlertAction, type NormalizedAlert, type Severity } from '../contracts/alert';
import { notFound } from '../http/app-error';
import {
  type AlertResult,
  AlertAttached,
  IncidentAcknowledged,
  IncidentAssigned,
  IncidentClosed,
  IncidentLinked,
  IncidentNeedsManualTriage,
  IncidentOpened,
  IncidentReopened,
  IncidentResolutionFailed,
  IncidentResolutionVerified,
  IncidentResolved,
  IncidentSeverityChanged,
  SlaBreached,
  type CloseReason,
  type IncidentStatus,
  type IncidentTriage,
  type Resolution,
  type SlaKind,
} from './events/incident.events';
import { ACTIVE_STATUSES, assertTransition, canTransition, nextStatus, type IncidentAction } from './incident-state-machine';

export const incidentStream = (incidentId: string) => `incident-${incidentId}`;

/** The dedup key (organisation, source, vendor alert id) names the incident, for good: see incident.events.ts. */
export const incidentIdFor = (organisationId: string, source: string, vendorAlertId: string) =>
  deterministicUuid('incident', organisationId, source, vendorAlertId);

export const formatIncidentNumber = (year: number, sequence: number) => `INC-${year}-${String(sequence).padStart(4, '0')}`;
export const INCIDENT_NUMBER = /^INC-(\d{4})-(\d{4,})$/;

export function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITIES.indexOf(a) >= SEVERITIES.indexOf(b) ? a : b;
}


export interface IncidentState {
  exists: boolean;
  number: string | null;
  organisationId: string | null;
  projectId: string | null;
  source: string | null;
  triage: IncidentTriage;
  status: IncidentStatus;
  severity: Severity;
  assignee: string | null;
  openedAt: string | null;
  /** SLA clocks: the first acknowledgement, resolution, closure or failed verification — someone acted. */
  respondedAt: string | null;
  /** … and the first resolution or closure. Later reopenings do not restart them (see docs/incidents.md). */
  settledAt: string | null;
  slaBreaches: readonly SlaKind[];
  alertCount: number;
  regressionCount: number;
  /** Every alert already recorded, and what it did: re-processing an alert is answered from here. */
  results: Map<string, AlertResult>;
  /** Incidents triage folded into this one (IncidentLinked). */
  members: readonly string[];
  duplicateOf: string | null;
}

function resultOf(state: IncidentState, action: AlertAction): AlertResult {
  if (state.alertCount === 0) return 'opened';
  if (action === 'resolve') return 'resolved';
  if (action === 'acknowledge') return 'acknowledged';
  return canTransition(state.status, 'regress') ? 'reopened' : 'attached';
}

const first = (current: string | null, at: string) => current ?? at;

export const Incident: Aggregate<IncidentState> = {
  initial: () => ({
    exists: false,
    number: null,
    organisationId: null,
    projectId: null,
    source: null,
    triage: { autoTriage: false, playbook: null },
    status: 'open',
    severity: 'info',
    assignee: null,
    openedAt: null,
    respondedAt: null,
    settledAt: null,
    slaBreaches: [],
    alertCount: 0,
    regressionCount: 0,
    results: new Map(),
    members: [],
    duplicateOf: null,
  }),
  evolve(state: IncidentState, event: IEvent): IncidentState {
    if (event instanceof IncidentOpened) {
      return {
        ...state,
        exists: true,
        number: event.number,
        organisationId: event.organisationId,
        projectId: event.projectId,
        source: event.source,
        triage: event.triage,
        status: 'open',
        severity: event.severity,
        openedAt: event.openedAt,
      };
    }
    if (event instanceof AlertAttached) {
      // Evolved before the status change it causes (see decideAlert), so the result reads the state it met.
      const results = new Map(state.results).set(event.alertId, resultOf(state, event.action));
      const severity = event.action === 'trigger' ? maxSeverity(state.severity, event.alert.severity) : state.severity;
      return { ...state, alertCount: event.count, severity, results };
    }
    if (event instanceof IncidentAcknowledged) {
      return { ...state, status: 'acknowledged', respondedAt: first(state.respondedAt, event.acknowledgedAt) };
    }
    if (event instanceof IncidentResolved) {
      const at = event.resolvedAt;
      return { ...state, status: 'resolved', respondedAt: first(state.respondedAt, at), settledAt: first(state.settledAt, at) };
    }
    if (event instanceof IncidentResolutionVerified) return { ...state, status: 'verified' };
    if (event instanceof IncidentResolutionFailed) {
      return { ...state, status: 'acknowledged', respondedAt: first(state.respondedAt, event.failedAt) };
    }
    if (event instanceof IncidentClosed) {
      const at = event.closedAt;
      return {
        ...state,
        status: 'closed',
        respondedAt: first(state.respondedAt, at),
        settledAt: first(state.settledAt, at),
        duplicateOf: event.duplicateOf,
      };
    }
    if (event instanceof IncidentReopened) return { ...state, status: 'open', regressionCount: event.regressionCount };
    if (event instanceof IncidentAssigned) return { ...state, assignee: event.assignee };
    if (event instanceof IncidentSeverityChanged) return { ...state, severity: event.to };
    if (event instanceof IncidentNeedsManualTriage) return { ...state, status: nextIf(state.status, 'needs_manual_triage') };
    if (event instanceof SlaBreached) {
      return state.slaBreaches.includes(event.kind) ? state : { ...state, slaBreaches: [...state.slaBreaches, event.kind] };
    }
    if (event instanceof IncidentLinked) {
      return state.members.includes(event.memberIncidentId) ? state : { ...state, members: [...state.members, event.memberIncidentId] };
    }
    return state;
  },
};

/** The status after `action` when the table allows it from here, else the status unchanged. */
function nextIf(status: IncidentStatus, action: IncidentAction): IncidentStatus {
  return canTransition(status, action) ? nextStatus(status, action) : status;
}

export interface AlertToRecord {
  incidentId: string;
  organisationId: string;
  source: string;
  projectId: string | null;
  triage: IncidentTriage;
  receiptId: string;
  index: number;
  receivedAt: string;
  alert: NormalizedAlert;
  /** The claimed number, needed only when a trigger opens the incident. */
  number: string | null;
}

export const alertIdOf = (receiptId: string, index: number) => `${receiptId}:${index}`;

/**
 * The decider for one received alert. A trigger opens the incident, attaches to it while it is active or
 * closed, and reopens it (a regression) once resolved or verified; resolve and acknowledge messages act only
 * on an active incident (through the lifecycle table) and never open one. An alert already recorded decides
 * nothing.
 */
export function decideAlert(state: IncidentState, input: AlertToRecord): IEvent[] {
  const { incidentId, alert, receivedAt } = input;
  const alertId = alertIdOf(input.receiptId, input.index);
  if (state.results.has(alertId)) return [];
  // Only a trigger is another alert: a resolve or acknowledge message is recorded on the incident but says
  // nothing new happened, so it does not raise the count (PagerDuty, Opsgenie, Sentinel, Grafana send them).
  const attach = () =>
    new AlertAttached(
      incidentId,
      alertId,
      input.receiptId,
      input.index,
      alert.action,
      receivedAt,
      alert,
      state.alertCount + (alert.action === 'trigger' ? 1 : 0),
    );

  if (!state.exists) {
    if (alert.action !== 'trigger') return [];
    if (input.number === null) throw new Error(`Incident ${incidentId} cannot open without a claimed number`);
    const opened = new IncidentOpened(
      incidentId,
      input.organisationId,
      input.number,
      input.source,
      alert.vendor_alert_id,
      alert.title,
      alert.severity,
      alert.category,
      input.projectId,
      input.triage,
      receivedAt,
    );
    return [opened, attach()];
  }
  if (alert.action === 'trigger') {
    if (canTransition(state.status, 'regress')) {
      return [attach(), new IncidentReopened(incidentId, receivedAt, true, state.regressionCount + 1, alertId)];
    }
    return [attach()];
  }
  if (!ACTIVE_STATUSES.includes(state.status)) return [];
  if (alert.action === 'resolve') return [attach(), new IncidentResolved(incidentId, receivedAt, 'resolve_message', alertId)];
  if (canTransition(state.status, 'acknowledge')) return [attach(), new IncidentAcknowledged(incidentId, receivedAt, alertId)];
  return [attach()];
}

/** A change asked for through the API (or by triage, which asks the same table). */
export type IncidentChange =
  | { action: 'assign'; assignee: string }
  | { action: 'acknowledge' }
  | { action: 'resolve'; resolution: Resolution; note: string | null }
  | { action: 'verify'; passed: boolean; note: string | null }
  | { action: 'close'; reason: CloseReason; note: string | null; duplicateOf?: string | null }
  | { action: 'reopen'; note: string | null };

export function actionOf(change: IncidentChange): IncidentAction {
  if (change.action === 'verify') return change.passed ? 'verify_passed' : 'verify_failed';
  return change.action;
}

/**
 * The decider for lifecycle changes: refuses what the table does not allow (409 invalid_transition, naming
 * the current state); assigning the current assignee again changes nothing.
 */
export function decideChange(state: IncidentState, incidentId: string, change: IncidentChange, at: string): IEvent[] {
  if (!state.exists) throw notFound(`Incident '${incidentId}' not found`);
  assertTransition(state.status, actionOf(change), state.number ?? incidentId);
  switch (change.action) {
    case 'assign':
      return state.assignee === change.assignee ? [] : [new IncidentAssigned(incidentId, change.assignee, state.assignee, at)];
    case 'acknowledge':
      return [new IncidentAcknowledged(incidentId, at, null)];
    case 'resolve':
      return [new IncidentResolved(incidentId, at, 'manual', null, change.resolution, change.note)];
    case 'verify':
      return [change.passed ? new IncidentResolutionVerified(incidentId, at, change.note) : new IncidentResolutionFailed(incidentId, at, change.note)];
    case 'close':
      return [new IncidentClosed(incidentId, at, change.reason, change.note, change.duplicateOf ?? null)];
    case 'reopen':
      return [new IncidentReopened(incidentId, at, false, state.regressionCount, null, change.note)];
  }
}
