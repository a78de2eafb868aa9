import type { IEvent } from '@nestjs/cqrs';
import { describe, expect, it } from 'vitest';
import type { NormalizedAlert } from '../contracts/alert';
import { AlertAttached, IncidentOpened, IncidentReopened, IncidentResolved } from './events/incident.events';
import { decideAlert, formatIncidentNumber, Incident, incidentIdFor, type AlertToRecord, type IncidentState } from './incident.aggregate';

const alert = (overrides: Partial<NormalizedAlert> = {}): NormalizedAlert => ({
  vendor: 'generic',
  vendor_alert_id: 'a-1',
  title: 'Malicious file',
  severity: 'medium',
  raw_severity: 'medium',
  occurred_at: '2026-01-01T00:00:00.000Z',
  category: null,
  indicators: { emails: [], urls: [], domains: [], ips: [], hashes: [] },
  action: 'trigger',
  normalization: 'vendor',
  ...overrides,
});

let receipt = 0;
const input = (a: NormalizedAlert, number: string | null = null): AlertToRecord => ({
  incidentId: 'i-1',
  organisationId: 'o-1',
  source: 'edr',
  projectId: null,
  triage: { autoTriage: false, playbook: null },
  receiptId: `r-${++receipt}`,
  index: 0,
  receivedAt: '2026-01-01T00:00:00.000Z',
  alert: a,
  number,
});

/** Decides and folds, as the aggregate store does. */
function record(state: IncidentState, given: AlertToRecord): { state: IncidentState; events: IEvent[] } {
  const events = decideAlert(state, given);
  return { state: events.reduce(Incident.evolve, state), events };
}

const types = (events: IEvent[]) => events.map((e) => e.constructor.name);

describe('the incident decider', () => {
  it('opens on a first trigger, then attaches repeats while open, raising the severity', () => {
    const opened = record(Incident.initial(), input(alert(), 'INC-2026-0001'));
    expect(types(opened.events)).toEqual([IncidentOpened.name, AlertAttached.name]);
    const repeat = record(opened.state, input(alert({ severity: 'critical' })));
    expect(types(repeat.events)).toEqual([AlertAttached.name]);
    expect(repeat.state).toMatchObject({ alertCount: 2, severity: 'critical', status: 'open', number: 'INC-2026-0001' });
    const lower = record(repeat.state, input(alert({ severity: 'low' })));
    expect(lower.state.severity).toBe('critical');
  });

  it('resolves on a resolve message and reopens on the next trigger, as a regression', () => {
    let { state } = record(Incident.initial(), input(alert(), 'INC-2026-0001'));
    const resolved = record(state, input(alert({ action: 'resolve' })));
    expect(types(resolved.events)).toEqual([AlertAttached.name, IncidentResolved.name]);
    state = resolved.state;
    expect(state.status).toBe('resolved');
    const again = record(state, input(alert()));
    expect(types(again.events)).toEqual([AlertAttached.name, IncidentReopened.name]);
    expect(again.events[1]).toMatchObject({ regression: true, regressionCount: 1 });
    // The resolve message is recorded but is no alert: trigger, resolve, trigger count two.
    expect(again.state).toMatchObject({ status: 'open', regressionCount: 1, alertCount: 2 });
  });

  it('counts acknowledge and resolve messages as no new alert', () => {
    let { state } = record(Incident.initial(), input(alert(), 'INC-2026-0001'));
    const acknowledged = record(state, input(alert({ action: 'acknowledge' })));
    expect(types(acknowledged.events)).toEqual([AlertAttached.name, 'IncidentAcknowledged']);
    expect(acknowledged.events[0]).toMatchObject({ action: 'acknowledge', count: 1 });
    state = record(acknowledged.state, input(alert({ action: 'resolve' }))).state;
    expect(state).toMatchObject({ status: 'resolved', alertCount: 1 });
  });

  it('never opens an incident for resolve or acknowledge messages', () => {
    expect(decideAlert(Incident.initial(), input(alert({ action: 'resolve' })))).toEqual([]);
    expect(decideAlert(Incident.initial(), input(alert({ action: 'acknowledge' })))).toEqual([]);
  });

  it('ignores resolve and acknowledge messages for a resolved incident', () => {
    const { state } = record(Incident.initial(), input(alert(), 'INC-2026-0001'));
    const resolved = record(state, input(alert({ action: 'resolve' }))).state;
    expect(decideAlert(resolved, input(alert({ action: 'resolve' })))).toEqual([]);
    expect(decideAlert(resolved, input(alert({ action: 'acknowledge' })))).toEqual([]);
  });

  it('records an alert once: deciding the same receipt item again changes nothing', () => {
    const first = input(alert(), 'INC-2026-0001');
    const { state } = record(Incident.initial(), first);
    expect(decideAlert(state, first)).toEqual([]);
    expect(state.results.get(`${first.receiptId}:0`)).toBe('opened');
  });

  it('refuses to open without a claimed number', () => {
    expect(() => decideAlert(Incident.initial(), input(alert()))).toThrow(/number/);
  });
});

describe('incident identity and numbers', () => {
  it('derives one incident id per (organisation, source, vendor alert id)', () => {
    const id = incidentIdFor('o-1', 'edr', 'a-1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(incidentIdFor('o-1', 'edr', 'a-1')).toBe(id);
    expect(new Set([id, incidentIdFor('o-2', 'edr', 'a-1'), incidentIdFor('o-1', 'siem', 'a-1'), incidentIdFor('o-1', 'edr', 'a-2')]).size).toBe(4);
    // The parts are length-prefixed: shifting a character between them names another incident.
    expect(incidentIdFor('o-1', 'edr.', 'a')).not.toBe(incidentIdFor('o-1', 'edr', '.a'));
  });

  it('pads numbers to at least four digits', () => {
    expect(formatIncidentNumber(2026, 1)).toBe('INC-2026-0001');
    expect(formatIncidentNumber(2026, 12345)).toBe('INC-2026-12345');
  });
});
