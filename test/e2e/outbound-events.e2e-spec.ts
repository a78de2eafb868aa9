import { CommandBus } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { RecordSecurityEvent } from '../../src/outbound/commands/security-event.commands';
import { derivedEventId } from '../../src/outbound/ids';
import { postWebhook } from '../fixtures/webhooks';
import { eventually } from '../support/receiver';
import { startTestApp, type TestApp } from '../support/test-app';

const SEED_TYPES = [
  'finding.created',
  'finding.regressed',
  'finding.assigned',
  'finding.acknowledged',
  'finding.resolution_verified',
  'finding.resolution_failed',
  'posture.grade_changed',
  'drift.detected',
  'campaign.completed',
  'ascam.activity_started',
  'ascam.paused',
  'ascam.resumed',
  'quality.degraded',
  'quality.regression',
];

describe('security events', () => {
  let t: TestApp;
  let org: string;
  let project: string;
  const events = (query = '') => t.request('GET', `/api/organisations/${org}/events${query}`);
  const publish = (body: unknown, key?: string) => t.request('POST', `/api/organisations/${org}/events`, body, key);

  beforeAll(async () => {
    // Drift is scored on half-second buckets here, so a baseline and a spike take a few seconds, not hours.
    t = await startTestApp({ env: { TW_DRIFT_BUCKET: '500ms', TW_DRIFT_MIN_SAMPLES: '4' } });
    org = (await t.request('POST', '/api/organisations', { name: 'Events' })).body.id;
    project = (await t.request('POST', `/api/organisations/${org}/projects`, { name: 'agent' })).body.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves the catalog of exactly the 14 seed types, each with a JSON Schema, to any valid key', async () => {
    const key = (await t.request('POST', `/api/organisations/${org}/api-keys`, { name: 'k', scopes: ['audit:read'] })).body.key;
    const catalog = await t.request('GET', '/api/event-types', undefined, key);
    expect(catalog.status).toBe(200);
    expect(catalog.body.map((e: any) => e.type)).toEqual(SEED_TYPES);
    for (const entry of catalog.body) {
      expect(entry.schema, entry.type).toMatchObject({ $schema: expect.any(String), type: 'object', properties: expect.any(Object) });
      expect(entry.example, entry.type).toEqual(expect.any(Object));
    }
    expect(catalog.body.find((e: any) => e.type === 'finding.regressed').severity).toEqual({ rule: 'fixed', value: 'high' });
    expect(catalog.body.find((e: any) => e.type === 'ascam.paused').severity).toEqual({ rule: 'fixed', value: 'medium' });
    expect((await t.request('GET', '/api/event-types', undefined, null)).status).toBe(401);
  });

  it("validates data against the type's schema and answers invalid_event with the schema errors", async () => {
    const missing = await publish({ event_type: 'finding.created', data: { title: 'x', severity: 'urgent' } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('invalid_event');
    expect(missing.body.error.details).toEqual(
      expect.arrayContaining([
        { path: '/data', message: "must have required property 'finding_id'" },
        { path: '/data/severity', message: 'must be one of "info", "low", "medium", "high", "critical"' },
      ]),
    );
    const wrongType = await publish({ event_type: 'quality.degraded', data: { metric: 'm', score: '0.5', threshold: 1 } });
    expect(wrongType.body.error).toMatchObject({ code: 'invalid_event', details: [{ path: '/data/score', message: 'must be number' }] });
    const unknown = await publish({ event_type: 'finding.exploded', data: {} });
    expect(unknown.body.error).toMatchObject({ code: 'invalid_event', details: [{ path: '/event_type' }] });
    const contradicted = await publish({ event_type: 'finding.regressed', severity: 'low', data: { finding_id: 'f', title: 't' } });
    expect(contradicted.body.error).toMatchObject({ code: 'invalid_event', details: [{ path: '/severity', message: 'must be high for finding.regressed' }] });

    const other = (await t.request('POST', '/api/organisations', { name: 'Other' })).body.id;
    const theirs = (await t.request('POST', `/api/organisations/${other}/projects`, { name: 'x' })).body.id;
    const foreign = await publish({ event_type: 'ascam.resumed', project_id: theirs, data: {} });
    expect(foreign.body.error).toMatchObject({ code: 'invalid_event', details: [{ path: '/project_id' }] });
    expect((await publish({ event_type: 'ascam.resumed' })).body.error.code).toBe('invalid_request');
    expect((await events()).body.items).toEqual([]);
  });

  it('applies the severity rules: regressions are always high, degraded posture high, others as given or by default', async () => {
    const regressed = await publish({ event_type: 'finding.regressed', data: { finding_id: 'f-1', title: 'SQLi' } });
    expect(regressed.body).toMatchObject({ severity: 'high', title: 'Finding regressed: SQLi', category: 'finding' });
    const degraded = await publish({ event_type: 'posture.grade_changed', project_id: project, data: { from: 'B', to: 'D', degraded: true } });
    expect(degraded.body).toMatchObject({ severity: 'high', project_id: project, category: 'posture' });
    const chosen = await publish({ event_type: 'quality.degraded', severity: 'critical', title: 'Custom', data: { metric: 'm', score: 0.1, threshold: 0.5 } });
    expect(chosen.body).toMatchObject({ severity: 'critical', title: 'Custom', description: 'Custom' });
  });

  it('lists the log with type, project and time filters, and pages it by cursor', async () => {
    const before = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 5; i++) {
      await publish({ event_type: 'ascam.activity_started', project_id: i % 2 ? project : null, data: { activity: `step-${i}` } });
    }
    const all = await events('?type=ascam.activity_started');
    expect(all.body.items.map((e: any) => e.data.activity)).toEqual(['step-0', 'step-1', 'step-2', 'step-3', 'step-4']);
    const inProject = await events(`?type=ascam.activity_started&project_id=${project}`);
    expect(inProject.body.items.map((e: any) => e.data.activity)).toEqual(['step-1', 'step-3']);
    expect((await events(`?type=ascam.activity_started&since=${before}`)).body.items).toHaveLength(5);
    expect((await events(`?type=ascam.activity_started&until=${before - 60}`)).body.items).toHaveLength(0);
    expect((await events(`?type=ascam.activity_started&since=${new Date(Date.now() + 60_000).toISOString()}`)).body.items).toHaveLength(0);

    const first = await events('?type=ascam.activity_started&limit=2');
    expect(first.body.items.map((e: any) => e.data.activity)).toEqual(['step-0', 'step-1']);
    const second = await events(`?type=ascam.activity_started&limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.items.map((e: any) => e.data.activity)).toEqual(['step-2', 'step-3']);
    const third = await events(`?type=ascam.activity_started&limit=2&cursor=${second.body.next_cursor}`);
    expect(third.body).toEqual({ items: [expect.objectContaining({ data: { activity: 'step-4' } })], next_cursor: null });
    expect((await events('?cursor=bogus')).status).toBe(400);
    expect((await events('?since=yesterday')).status).toBe(400);

    const one = await t.request('GET', `/api/organisations/${org}/events/${first.body.items[0].id}`);
    expect(one.body).toEqual(first.body.items[0]);
  });

  it('records a derived event once, however often its producer repeats it', async () => {
    const bus = t.app.get(CommandBus);
    const id = derivedEventId('test', randomUUID());
    const command = new RecordSecurityEvent({ event_type: 'ascam.activity_started', organisation_id: org, project_id: null, data: { activity: 'replayed' } }, 'monitoring', id);
    // Back to back, before the listing has caught up: the second finds the first in the log's tail.
    await bus.execute(command);
    await bus.execute(command);
    const store = t.app.get<symbol, EventStore>(EVENT_STORE);
    expect((await store.readStream(`securityEvent-${org}`)).filter((e) => e.id === id)).toHaveLength(1);
    // The API's own events are never deduplicated: each publish is a new event.
    expect((await publish({ event_type: 'campaign.completed', data: { campaign_id: 'same' } })).body.id).not.toBe(
      (await publish({ event_type: 'campaign.completed', data: { campaign_id: 'same' } })).body.id,
    );
  });

  it('needs events:write to publish and read to list', async () => {
    const reader = (await t.request('POST', `/api/organisations/${org}/api-keys`, { name: 'r', scopes: ['read'] })).body.key;
    const producer = (await t.request('POST', `/api/organisations/${org}/api-keys`, { name: 'p', scopes: ['events:write'] })).body.key;
    const event = { event_type: 'campaign.completed', data: { campaign_id: 'c' } };
    expect((await publish(event, reader)).status).toBe(403);
    expect((await publish(event, producer)).status).toBe(201);
    expect((await t.request('GET', `/api/organisations/${org}/events`, undefined, reader)).status).toBe(200);
    expect((await t.request('GET', `/api/organisations/${org}/events`, undefined, producer)).status).toBe(403);
  });

  it('pauses and resumes monitoring of a project, emitting ascam.paused (medium) and ascam.resumed once each', async () => {
    const path = `/api/organisations/${org}/projects/${project}/monitoring`;
    expect((await t.request('GET', path)).body).toEqual({ project_id: project, paused: false, reason: null, since: null });
    const paused = await t.request('POST', `${path}/pause`, { reason: 'Maintenance window' });
    expect(paused).toMatchObject({ status: 200, body: { paused: true, reason: 'Maintenance window' } });
    expect((await t.request('POST', `${path}/pause`, {})).body.paused).toBe(true);
    const resumed = await t.request('POST', `${path}/resume`);
    expect(resumed).toMatchObject({ status: 200, body: { paused: false, reason: null } });

    const emitted = await eventually(async () => {
      const items = (await events(`?project_id=${project}`)).body.items.filter((e: any) => e.event_type.startsWith('ascam.') && e.event_type !== 'ascam.activity_started');
      return items.length === 2 && items;
    });
    expect(emitted.map((e: any) => [e.event_type, e.severity])).toEqual([
      ['ascam.paused', 'medium'],
      ['ascam.resumed', 'info'],
    ]);
    expect(emitted[0].data).toMatchObject({ reason: 'Maintenance window', paused_by: 'admin' });
    expect(emitted[1].data.paused_seconds).toEqual(expect.any(Number));
    expect((await t.request('POST', `/api/organisations/${org}/projects/00000000-0000-4000-8000-000000000000/monitoring/pause`, {})).status).toBe(404);
  });

  it('turns incidents into finding.created and finding.regressed, and grades the project posture', async () => {
    const secret = 'alertmanager-secret';
    const project = (await t.request('POST', `/api/organisations/${org}/projects`, { name: 'incidents' })).body.id;
    const source = await t.request('POST', '/api/webhooks', { source: 'prom', secret, organisation_id: org, project_id: project });
    expect(source.status).toBe(201);
    const alert = (fingerprint: string, severity: string, status = 'firing') => ({
      version: '4',
      status,
      receiver: 'towline',
      groupLabels: {},
      commonLabels: {},
      alerts: [
        {
          status,
          labels: { alertname: `Alert ${fingerprint}`, severity },
          annotations: { summary: `Alert ${fingerprint}` },
          startsAt: new Date().toISOString(),
          fingerprint,
        },
      ],
    });
    const post = async (payload: unknown) => expect((await postWebhook(t.url, 'prom', secret, payload)).status).toBe(202);
    const postureEvents = async () => (await events(`?type=posture.grade_changed&project_id=${project}`)).body.items;

    await post(alert('fp-1', 'critical'));
    const created = await eventually(async () => (await events('?type=finding.created')).body.items[0]);
    expect(created).toMatchObject({ severity: 'critical', project_id: project, title: 'New critical finding: Alert fp-1', data: { severity: 'critical', source: 'prom' } });
    expect(created.data.incident_number).toMatch(/^INC-/);
    expect((await eventually(async () => (await postureEvents()).length === 1 && postureEvents()))[0]).toMatchObject({
      severity: 'high',
      data: { from: 'A', to: 'D', degraded: true, score: 10, open_incidents: { critical: 1 } },
    });

    await post(alert('fp-2', 'warning')); // medium: score 12, still D — no event
    await post(alert('fp-1', 'critical', 'resolved')); // score 2: B
    const improved = await eventually(async () => (await postureEvents())[1]);
    expect(improved).toMatchObject({ severity: 'info', data: { from: 'D', to: 'B', degraded: false, score: 2 } });

    await post(alert('fp-1', 'critical')); // the resolved incident comes back: a regression, and D again
    const regressed = await eventually(async () => (await events('?type=finding.regressed')).body.items.find((e: any) => e.data.finding_id === created.data.finding_id));
    expect(regressed).toMatchObject({ severity: 'high', data: { title: 'Alert fp-1', original_severity: 'critical', regression_count: 1 } });
    expect(regressed.data.previously_resolved_at).toEqual(expect.any(String));
    const again = await eventually(async () => (await postureEvents())[2]);
    expect(again.data).toMatchObject({ from: 'B', to: 'D', degraded: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await postureEvents()).toHaveLength(3);
  });

  it("detects drift in a source's alert volume and severity against its own baseline", async () => {
    const secret = 'generic-secret-1';
    await t.request('POST', '/api/webhooks', { source: 'edr-drift', secret, organisation_id: org });
    const alert = (id: string, severity: string) => ({ event_type: 'security_alert', data: { alert_id: id, severity, title: `Alert ${id}` } });
    // A steady baseline: about two low alerts per half-second bucket.
    for (let i = 0; i < 14; i++) {
      await postWebhook(t.url, 'edr-drift', secret, alert(`base-${i}`, 'low'));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // Then a burst of critical ones, started just after a bucket boundary so that it lands in one bucket, and one
    // more alert a bucket later, which closes the burst's bucket.
    while (Date.now() % 500 > 30) await new Promise((resolve) => setTimeout(resolve, 5));
    await Promise.all(Array.from({ length: 30 }, (_, i) => postWebhook(t.url, 'edr-drift', secret, alert(`burst-${i}`, 'critical'))));
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await postWebhook(t.url, 'edr-drift', secret, alert('after', 'low'));

    const drift = await eventually(async () => {
      const items = (await events('?type=drift.detected')).body.items;
      return items.some((e: any) => e.data.metric === 'alert_volume') && items.some((e: any) => e.data.metric === 'severity_score') && items;
    });
    const volume = drift.find((e: any) => e.data.metric === 'alert_volume');
    expect(volume).toMatchObject({ severity: 'medium', category: 'drift', data: { source: 'edr-drift', direction: 'up', threshold: 3, bucket_seconds: 1 } });
    expect(volume.data.observed).toBeGreaterThanOrEqual(6);
    expect(volume.data.z_score).toBeGreaterThanOrEqual(3);
    expect(volume.data.samples).toBeGreaterThanOrEqual(4);
    expect(volume.data.baseline_mean).toBeLessThan(4);
    const severity = drift.find((e: any) => e.data.metric === 'severity_score');
    // The burst's bucket is (nearly) all critical (4) against a baseline of low (1) alerts.
    expect(severity.data.direction).toBe('up');
    expect(severity.data.observed).toBeGreaterThan(3);
    expect(severity.data.baseline_mean).toBeCloseTo(1, 1);
  });
});
