import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook } from '../fixtures/webhooks';
import { startTestApp, type TestApp } from '../support/test-app';

const SECRET = 'lifecycle-secret-1';
const alert = (id: string, severity = 'high') => ({ event_type: 'security_alert', data: { alert_id: id, severity, title: `Alert ${id}` } });

/** Every change the API offers, as [path suffix, body]. */
const ACTIONS: Record<string, [string, unknown]> = {
  acknowledge: ['acknowledge', undefined],
  assign: ['assign', { assignee: 'soc-tier2' }],
  resolve: ['resolve', { resolution: 'remediated', note: 'patched' }],
  verify_passed: ['verify', { passed: true }],
  verify_failed: ['verify', { passed: false, note: 'still there' }],
  close: ['close', { reason: 'false_positive' }],
  reopen: ['reopen', { note: 'not fixed after all' }],
};

/** What the lifecycle allows from each state (docs/incidents.md); everything else must be refused. */
const ALLOWED: Record<string, string[]> = {
  open: ['acknowledge', 'assign', 'resolve', 'close'],
  acknowledged: ['assign', 'resolve', 'close'],
  resolved: ['assign', 'verify_passed', 'verify_failed', 'close', 'reopen'],
  verified: ['reopen'],
  closed: ['reopen'],
};

/** The requests that bring a new incident to each state. */
const PATHS: Record<string, string[]> = {
  open: [],
  acknowledged: ['acknowledge'],
  resolved: ['resolve'],
  verified: ['resolve', 'verify_passed'],
  closed: ['close'],
};

describe('the incident lifecycle over the API', () => {
  let t: TestApp;
  let writer: string;
  let writerId: string;
  let reader: string;
  let counter = 0;

  const open = async (): Promise<{ id: string; number: string }> => {
    const answer = await postWebhook(t.url, 'lifecycle-edr', SECRET, alert(`life-${++counter}`));
    expect(answer.status).toBe(202);
    return { id: answer.body.incident_id, number: answer.body.incident_number };
  };
  const act = (incident: string, action: string, key: string | null = writer) => {
    const [path, body] = ACTIONS[action];
    return t.request('POST', `/api/incidents/${incident}/${path}`, body, key);
  };

  beforeAll(async () => {
    t = await startTestApp();
    await t.request('POST', '/api/webhooks', { source: 'lifecycle-edr', secret: SECRET });
    const org = (await t.request('GET', '/api/organisations/default')).body.id;
    const issued = (await t.request('POST', `/api/organisations/${org}/api-keys`, { name: 'analyst', scopes: ['incidents:write', 'read'] })).body;
    writer = issued.key;
    writerId = issued.id;
    reader = (await t.request('POST', `/api/organisations/${org}/api-keys`, { name: 'viewer', scopes: ['read'] })).body.key;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('walks an incident from open to verified, and its timeline names every actor', async () => {
    const { id, number } = await open();
    const acknowledged = await act(number, 'acknowledge');
    expect(acknowledged).toMatchObject({ status: 200, body: { status: 'acknowledged', acknowledged_at: expect.any(String) } });
    expect(acknowledged.body.sla.acknowledge).toMatchObject({ met_at: acknowledged.body.acknowledged_at, breached: false });
    expect((await act(id, 'assign')).body).toMatchObject({ status: 'acknowledged', assignee: 'soc-tier2' });
    // The same assignee again changes nothing: no second event.
    expect((await act(id, 'assign')).status).toBe(200);
    expect((await act(id, 'resolve')).body).toMatchObject({ status: 'resolved', resolution: 'remediated', resolved_at: expect.any(String) });
    expect((await act(id, 'verify_failed')).body).toMatchObject({ status: 'acknowledged' });
    await act(id, 'resolve');
    const verified = await act(number.toLowerCase(), 'verify_passed');
    expect(verified.body).toMatchObject({ status: 'verified', verified_at: expect.any(String) });

    expect(verified.body.timeline.map((e: any) => [e.type, e.actor])).toEqual([
      ['IncidentOpened', 'source:lifecycle-edr'],
      ['AlertAttached', 'source:lifecycle-edr'],
      ['IncidentAcknowledged', `api-key:${writerId}`],
      ['IncidentAssigned', `api-key:${writerId}`],
      ['IncidentResolved', `api-key:${writerId}`],
      ['IncidentResolutionFailed', `api-key:${writerId}`],
      ['IncidentResolved', `api-key:${writerId}`],
      ['IncidentResolutionVerified', `api-key:${writerId}`],
    ]);
    expect(verified.body.timeline[5]).toMatchObject({ revision: 5, at: expect.any(String), data: { note: 'still there' } });
    expect(verified.body.timeline[4].data).toMatchObject({ reason: 'manual', resolution: 'remediated', note: 'patched' });
  });

  it('answers every invalid transition with 409 invalid_transition naming the current state', async () => {
    for (const [state, path] of Object.entries(PATHS)) {
      const { id } = await open();
      for (const step of path) expect((await act(id, step)).status, `${state}: ${step}`).toBe(200);
      expect((await t.request('GET', `/api/incidents/${id}`)).body.status).toBe(state);
      for (const action of Object.keys(ACTIONS).filter((a) => !ALLOWED[state].includes(a))) {
        const refused = await act(id, action);
        expect(refused, `${action} from ${state}`).toMatchObject({
          status: 409,
          body: { error: { code: 'invalid_transition', message: expect.stringContaining(`it is ${state}`), details: { current_state: state } } },
        });
      }
      // Refusals change nothing.
      expect((await t.request('GET', `/api/incidents/${id}`)).body.status).toBe(state);
    }
  });

  it('closes with a reason, reopens by hand, and reopens a resolved incident when its alert comes back', async () => {
    const { id } = await open();
    const closed = await t.request('POST', `/api/incidents/${id}/close`, { reason: 'benign', note: 'a scheduled scan' }, writer);
    expect(closed.body).toMatchObject({ status: 'closed', close_reason: 'benign', closed_at: expect.any(String) });
    const reopened = await act(id, 'reopen');
    expect(reopened.body).toMatchObject({ status: 'open', regression_count: 0, reopened_at: expect.any(String) });
    expect(reopened.body.timeline.at(-1)).toMatchObject({ type: 'IncidentReopened', data: { regression: false, note: 'not fixed after all' } });

    // A note is optional: a body-less reopen is fine.
    expect((await act(id, 'close')).status).toBe(200);
    expect((await t.request('POST', `/api/incidents/${id}/reopen`, undefined, writer)).body.status).toBe('open');
    await act(id, 'resolve');
    // Another body than the first (an identical one within the same second would be a replay).
    const again = await postWebhook(t.url, 'lifecycle-edr', SECRET, alert(`life-${counter}`, 'critical'));
    expect(again.body.incident_id).toBe(id);
    expect((await t.request('GET', `/api/incidents/${id}`)).body).toMatchObject({ status: 'open', regression_count: 1, severity: 'critical' });
  });

  it('needs incidents:write to change an incident, and hides other organisations’ incidents behind 404', async () => {
    const { id, number } = await open();
    expect((await act(id, 'acknowledge', reader)).status).toBe(403);
    expect((await act(id, 'acknowledge', null)).status).toBe(401);

    const other = (await t.request('POST', '/api/organisations', { name: 'Elsewhere SOC' })).body.id;
    const outsider = (await t.request('POST', `/api/organisations/${other}/api-keys`, { name: 'x', scopes: ['admin'] })).body.key;
    for (const action of Object.keys(ACTIONS)) {
      expect((await act(id, action, outsider)).status, action).toBe(404);
      expect((await act(number, action, outsider)).status, action).toBe(404);
    }
    expect((await t.request('GET', `/api/incidents/${id}`, undefined, outsider)).status).toBe(404);
    expect((await t.request('POST', `/api/incidents/${id}/acknowledge?organisation_id=${other}`)).status).toBe(404);
    expect((await t.request('POST', `/api/incidents/${id}/acknowledge?organisation_id=default`)).status).toBe(200);
    expect((await t.request('GET', `/api/incidents/${id}`)).body.status).toBe('acknowledged');
  });

  it('refuses malformed change requests with 400', async () => {
    const { id } = await open();
    for (const [path, body] of [
      ['assign', {}],
      ['assign', { assignee: '' }],
      ['resolve', {}],
      ['resolve', { resolution: 'vanished' }],
      ['verify', { passed: 'yes' }],
      ['close', { reason: 'bored' }],
      ['close', { reason: 'benign', extra: 1 }],
      ['reopen', { note: 5 }],
    ] as const) {
      expect((await t.request('POST', `/api/incidents/${id}/${path}`, body, writer)).status, `${path} ${JSON.stringify(body)}`).toBe(400);
    }
    expect((await t.request('GET', `/api/incidents/${id}`)).body.status).toBe('open');
  });

  it('filters by status and assignee, and keeps per-source statistics', async () => {
    const { id } = await open();
    await act(id, 'assign');
    const assigned = (await t.request('GET', '/api/incidents?assignee=soc-tier2&limit=500')).body.items;
    expect(assigned.map((i: any) => i.id)).toContain(id);
    expect(assigned.every((i: any) => i.assignee === 'soc-tier2')).toBe(true);
    expect((await t.request('GET', '/api/incidents?status=verified')).body.items.every((i: any) => i.status === 'verified')).toBe(true);

    const all = (await t.request('GET', '/api/incidents?limit=500')).body.items;
    const byStatus = (status: string) => all.filter((i: any) => i.status === status).length;
    const bySeverity = (severity: string) => all.filter((i: any) => i.severity === severity).length;
    const [stats] = (await t.request('GET', '/api/incidents/statistics?source=lifecycle-edr', undefined, reader)).body;
    expect(stats).toMatchObject({
      source: 'lifecycle-edr',
      total: all.length,
      by_status: { open: byStatus('open'), acknowledged: byStatus('acknowledged'), resolved: byStatus('resolved'), verified: byStatus('verified'), closed: byStatus('closed') },
      by_severity: { high: bySeverity('high'), critical: bySeverity('critical'), medium: 0 },
      by_verdict: { untriaged: all.length },
      mean_time_to_acknowledge_seconds: expect.any(Number),
      mean_time_to_resolve_seconds: expect.any(Number),
    });
    expect((await t.request('GET', '/api/incidents/statistics?source=nothing-here')).body).toEqual([]);
  });
});
