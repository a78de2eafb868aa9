import type { IEvent } from '@nestjs/cqrs';
import { describe, expect, it } from 'vitest';
import { AppError } from '../http/app-error';
import type { NormalizedAlert } from '../contracts/alert';
import {
  AlertAttached,
  INCIDENT_STATUSES,
  IncidentAcknowledged,
  IncidentClosed,
  IncidentNeedsManualTriage,
  IncidentOpened,
  IncidentReopened,
  IncidentResolutionVerified,
  IncidentResolved,
  type IncidentStatus,
} from './events/incident.events';
import { decideAlert, decideChange, Incident, type IncidentChange, type IncidentState } from './incident.aggregate';
import { TRANSITIONS, type IncidentAction } from './incident-state-machine';

const AT = '2026-03-01T10:00:00.000Z';
const opened = new IncidentOpened('i-1', 'o-1', 'INC-2026-0001', 'edr', 'a-1', 'Malware', 'high', null, null, { autoTriage: false, playbook: null }, AT);

/** The events that bring a fresh incident to each status. */
const PATHS: Record<IncidentStatus, IEvent[]> = {
  open: [opened],
  needs_manual_triage: [opened, new IncidentNeedsManualTriage('i-1', 'r-1', 'extract', 3, 'boom', AT)],
  acknowledged: [opened, new IncidentAcknowledged('i-1', AT, null)],
  resolved: [opened, new IncidentResolved('i-1', AT, 'manual', null, 'remediated', null)],
  verified: [opened, new IncidentResolved('i-1', AT, 'manual', null, 'remediated', null), new IncidentResolutionVerified('i-1', AT, null)],
  closed: [opened, new IncidentClosed('i-1', AT, 'false_positive', null, null)],
};

const stateIn = (status: IncidentStatus): IncidentState => PATHS[status].reduce(Incident.evolve, Incident.initial());

/** One request per action of the API (and the two outcomes of verify). */
const CHANGES: Record<Exclude<IncidentAction, 'regress' | 'needs_manual_triage'>, IncidentChange> = {
  acknowledge: { action: 'acknowledge' },
  assign: { action: 'assign', assignee: 'soc-tier2' },
  resolve: { action: 'resolve', resolution: 'remediated', note: 'patched' },
  verify_passed: { action: 'verify', passed: true, note: null },
  verify_failed: { action: 'verify', passed: false, note: 'still beaconing' },
  close: { action: 'close', reason: 'false_positive', note: 'test host' },
  reopen: { action: 'reopen', note: null },
};

const alert = (action: NormalizedAlert['action'] = 'trigger'): NormalizedAlert => ({
  vendor: 'generic',
  vendor_alert_id: 'a-1',
  title: 'Malware',
  severity: 'high',
  raw_severity: 'high',
  occurred_at: AT,
  category: null,
  indicators: { emails: [], urls: [], domains: [], ips: [], hashes: [] },
  action,
  normalization: 'vendor',
});

let receipt = 0;
const alertInput = (action: NormalizedAlert['action']) => ({
  incidentId: 'i-1',
  organisationId: 'o-1',
  source: 'edr',
  projectId: null,
  triage: { autoTriage: false, playbook: null },
  receiptId: `r-${++receipt}`,
  index: 0,
  receivedAt: AT,
  alert: alert(action),
  number: null,
});

describe('the incident lifecycle table', () => {
  for (const [action, change] of Object.entries(CHANGES) as [keyof typeof CHANGES, IncidentChange][]) {
    const { from, to } = TRANSITIONS[action];
    for (const status of INCIDENT_STATUSES) {
      if ((from as readonly string[]).includes(status)) {
        it(`${action} from ${status} → ${to ?? status}`, () => {
          const state = stateIn(status);
          const events = decideChange(state, 'i-1', change, AT);
          expect(events.reduce(Incident.evolve, state).status).toBe(to ?? status);
        });
      } else {
        it(`refuses ${action} from ${status} with 409 invalid_transition naming ${status}`, () => {
          const refusal = (() => {
            try {
              decideChange(stateIn(status), 'i-1', change, AT);
            } catch (error) {
              return error;
            }
          })();
          expect(refusal).toBeInstanceOf(AppError);
          expect(refusal).toMatchObject({ status: 409, code: 'invalid_transition', details: { current_state: status } });
          expect((refusal as AppError).message).toContain(`it is ${status}`);
        });
      }
    }
  }

  it('assigning the current assignee again changes nothing; another assignee is a reassignment', () => {
    const assigned = decideChange(stateIn('open'), 'i-1', CHANGES.assign, AT).reduce(Incident.evolve, stateIn('open'));
    expect(assigned.assignee).toBe('soc-tier2');
    expect(decideChange(assigned, 'i-1', CHANGES.assign, AT)).toEqual([]);
    expect(decideChange(assigned, 'i-1', { action: 'assign', assignee: 'ir-team' }, AT)).toEqual([
      expect.objectContaining({ assignee: 'ir-team', previousAssignee: 'soc-tier2' }),
    ]);
  });

  it('answers 404 for an incident that does not exist', () => {
    expect(() => decideChange(Incident.initial(), 'i-1', CHANGES.acknowledge, AT)).toThrow(expect.objectContaining({ status: 404 }));
  });

  it('moves to needs_manual_triage only from open: an acknowledged incident is being triaged by a person already', () => {
    const gaveUp = new IncidentNeedsManualTriage('i-1', 'r-1', 'extract', 3, 'boom', AT);
    expect(Incident.evolve(stateIn('open'), gaveUp).status).toBe('needs_manual_triage');
    expect(Incident.evolve(stateIn('acknowledged'), gaveUp).status).toBe('acknowledged');
  });
});

describe('alerts on the lifecycle', () => {
  const types = (events: IEvent[]) => events.map((e) => e.constructor.name);

  it('reopens a resolved or verified incident on a trigger, as a regression', () => {
    for (const status of ['resolved', 'verified'] as const) {
      const events = decideAlert(stateIn(status), alertInput('trigger'));
      expect(types(events), status).toEqual([AlertAttached.name, IncidentReopened.name]);
      expect(events[1]).toMatchObject({ regression: true, regressionCount: 1 });
    }
  });

  it('only attaches a trigger to a closed incident: a repeated false positive stays closed', () => {
    expect(types(decideAlert(stateIn('closed'), alertInput('trigger')))).toEqual([AlertAttached.name]);
  });

  it("acknowledges on the vendor's acknowledge message, resolves on its resolve message, and ignores both once settled", () => {
    expect(types(decideAlert(stateIn('open'), alertInput('acknowledge')))).toEqual([AlertAttached.name, IncidentAcknowledged.name]);
    expect(types(decideAlert(stateIn('acknowledged'), alertInput('acknowledge')))).toEqual([AlertAttached.name]);
    expect(types(decideAlert(stateIn('acknowledged'), alertInput('resolve')))).toEqual([AlertAttached.name, IncidentResolved.name]);
    for (const status of ['resolved', 'verified', 'closed'] as const) {
      expect(decideAlert(stateIn(status), alertInput('resolve')), status).toEqual([]);
      expect(decideAlert(stateIn(status), alertInput('acknowledge')), status).toEqual([]);
    }
  });
});

describe('SLA clocks on the aggregate', () => {
  it('stop at the first response and the first settlement, and a reopening does not restart them', () => {
    const acknowledged = Incident.evolve(stateIn('open'), new IncidentAcknowledged('i-1', '2026-03-01T10:05:00.000Z', null));
    expect(acknowledged).toMatchObject({ respondedAt: '2026-03-01T10:05:00.000Z', settledAt: null });
    const resolved = Incident.evolve(acknowledged, new IncidentResolved('i-1', '2026-03-01T11:00:00.000Z', 'manual', null, 'remediated', null));
    const reopened = Incident.evolve(resolved, new IncidentReopened('i-1', '2026-03-01T12:00:00.000Z', false, 0, null, null));
    expect(reopened).toMatchObject({ status: 'open', respondedAt: '2026-03-01T10:05:00.000Z', settledAt: '2026-03-01T11:00:00.000Z' });
    expect(stateIn('closed')).toMatchObject({ respondedAt: AT, settledAt: AT });
  });
});
