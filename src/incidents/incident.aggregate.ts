import type { IEvent } from '@nestjs/cqrs';
import type { Aggregate } from '../cqrs/aggregate-store';
import { deterministicUuid } from '../inbound/deterministic-id';
import { SEVERITIES, type AlertAction, type NormalizedAlert, type Severity } from '../inbound/normalizers';
import { AlertAttached, IncidentOpened, IncidentReopened, IncidentResolved, type IncidentTriage } from './events/incident.events';

export const incidentStream = (incidentId: string) => `incident-${incidentId}`;

/** The dedup key (organisation, source, vendor alert id) names the incident, for good: see incident.events.ts. */
export const incidentIdFor = (organisationId: string, source: string, vendorAlertId: string) =>
  deterministicUuid('incident', organisationId, source, vendorAlertId);

export const formatIncidentNumber = (year: number, sequence: number) => `INC-${year}-${String(sequence).padStart(4, '0')}`;
export const INCIDENT_NUMBER = /^INC-(\d{4})-(\d{4,})$/;

export function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITIES.indexOf(a) >= SEVERITIES.indexOf(b) ? a : b;
}

/** What one alert did to its incident; `unchanged` when it was for an incident in a state it cannot change. */
export type AlertResult = 'opened' | 'attached' | 'reopened' | 'resolved' | 'acknowledged' | 'unchanged';

export interface IncidentState {
  exists: boolean;
  number: string | null;
  status: 'open' | 'resolved';
  severity: Severity;
  alertCount: number;
  regressionCount: number;
  /** Every alert already recorded, and what it did: re-processing an alert is answered from here. */
  results: Map<string, AlertResult>;
}

function resultOf(state: IncidentState, action: AlertAction): AlertResult {
  if (state.alertCount === 0) return 'opened';
  if (action === 'resolve') return 'resolved';
  if (action === 'acknowledge') return 'acknowledged';
  return state.status === 'resolved' ? 'reopened' : 'attached';
}

export const Incident: Aggregate<IncidentState> = {
  initial: () => ({
    exists: false,
    number: null,
    status: 'open',
    severity: 'info',
    alertCount: 0,
    regressionCount: 0,
    results: new Map(),
  }),
  evolve(state: IncidentState, event: IEvent): IncidentState {
    if (event instanceof IncidentOpened) return { ...state, exists: true, number: event.number, status: 'open', severity: event.severity };
    if (event instanceof AlertAttached) {
      // Evolved before the status change it causes (see decideAlert), so the result reads the state it met.
      const results = new Map(state.results).set(event.alertId, resultOf(state, event.action));
      const severity = event.action === 'trigger' ? maxSeverity(state.severity, event.alert.severity) : state.severity;
      return { ...state, alertCount: event.count, severity, results };
    }
    if (event instanceof IncidentResolved) return { ...state, status: 'resolved' };
    if (event instanceof IncidentReopened) return { ...state, status: 'open', regressionCount: event.regressionCount };
    return state;
  },
};

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
 * The decider for one received alert. A trigger opens the incident, attaches to it while open, and reopens
 * it (a regression) once resolved; resolve and acknowledge act only on an existing open incident and never
 * open one. An alert already recorded decides nothing.
 */
export function decideAlert(state: IncidentState, input: AlertToRecord): IEvent[] {
  const { incidentId, alert, receivedAt } = input;
  const alertId = alertIdOf(input.receiptId, input.index);
  if (state.results.has(alertId)) return [];
  const attach = () =>
    new AlertAttached(incidentId, alertId, input.receiptId, input.index, alert.action, receivedAt, alert, state.alertCount + 1);

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
  if (state.status === 'resolved') {
    if (alert.action !== 'trigger') return [];
    return [attach(), new IncidentReopened(incidentId, receivedAt, true, state.regressionCount + 1, alertId)];
  }
  if (alert.action === 'resolve') return [attach(), new IncidentResolved(incidentId, receivedAt, 'resolve_message', alertId)];
  return [attach()];
}
