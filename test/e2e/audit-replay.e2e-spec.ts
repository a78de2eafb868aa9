import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReadSideRunner } from '../../src/cqrs/read-side.runner';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { defenderEmail, falconDetection, settle, triaged } from '../fixtures/triage';
import { postWebhook } from '../fixtures/webhooks';
import { eventually, RECEIVER_ENV, startReceiver, type Receiver } from '../support/receiver';
import { startTestApp, type TestApp } from '../support/test-app';
import { waitForJob } from './audit-support';

const SECRET = 'replay-secret-01';
const CONFIG = `
sources:
  email-gateway: { secret: "${SECRET}", auto_triage: true, playbook: phishing_triage }
  edr: { secret: "${SECRET}", auto_triage: true, playbook: malware_triage }
  siem: { secret: "${SECRET}" }
playbooks:
  protected_domains: [paypal.com]
  asset_criticality: [{ pattern: "dc-*", criticality: critical }]
`;

describe('audit: replay rebuilds every projection and finds it equal to the live read models', () => {
  const dir = mkdtempSync(join(tmpdir(), 'towline-replay-'));
  const receivers: Receiver[] = [];
  let t: TestApp;

  beforeAll(async () => {
    writeFileSync(join(dir, 'webhook_config.yaml'), CONFIG);
    t = await startTestApp({ env: { ...RECEIVER_ENV, TW_CONFIG: join(dir, 'webhook_config.yaml'), TW_DELIVERY_BREAKER_THRESHOLD: '1000' } });
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all(receivers.map((r) => r.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('after a mixed workload of thousands of events, without holding up ingest meanwhile', async () => {
    const ok = await startReceiver();
    // Every delivery's first attempt fails, its retry succeeds.
    const tried = new Set<string>();
    const flaky = await startReceiver((request) => {
      const delivery = String(request.headers['x-towline-delivery']);
      if (tried.has(delivery)) return { status: 200 };
      tried.add(delivery);
      return { status: 503 };
    });
    const dead = await startReceiver(() => ({ status: 500 }));
    receivers.push(ok, flaky, dead);
    for (const url of [ok.url, flaky.url]) expect((await t.request('POST', '/api/organisations/default/webhooks', { url })).status).toBe(201);
    expect((await t.request('POST', '/api/organisations/default/webhooks', { url: dead.url, event_types: ['finding.assigned'] })).status).toBe(201);

    // Alerts (each opens an incident, which emits security events, each delivered to the webhooks), triage, lifecycles.
    const incidents: string[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          postWebhook(t.url, 'siem', SECRET, { event_type: 'security_alert', data: { alert_id: `r-${batch}-${i}`, severity: i % 2 ? 'high' : 'low' } }),
        ),
      );
      for (const answer of answers) {
        expect(answer.status).toBe(202);
        incidents.push(answer.body.incident_id);
      }
    }
    await triaged(t, (await postWebhook(t.url, 'email-gateway', SECRET, defenderEmail({ sender: 'billing@paypa1.com' }))).body.incident_id);
    await triaged(t, (await postWebhook(t.url, 'edr', SECRET, falconDetection({ host: 'DC-01' }))).body.incident_id);
    for (const id of incidents.slice(0, 20)) {
      expect((await t.request('POST', `/api/incidents/${id}/acknowledge`)).status).toBe(200);
      expect((await t.request('POST', `/api/incidents/${id}/resolve`, { resolution: 'mitigated' })).status).toBe(200);
    }
    for (let i = 0; i < 3; i++) {
      expect((await t.request('POST', '/api/organisations/default/events', { event_type: 'finding.assigned', data: { finding_id: `f-${i}`, assignee: 'ann' } })).status).toBe(201);
    }
    // Dead letters: every retry of the failing webhook spent.
    await eventually(async () => {
      const hooks = (await t.request('GET', '/api/organisations/default/webhooks')).body.items ?? (await t.request('GET', '/api/organisations/default/webhooks')).body;
      const failing = hooks.find((h: any) => h.url.startsWith(dead.url));
      const deliveries = (await t.request('GET', `/api/organisations/default/webhooks/${failing.id}/deliveries`)).body.items;
      return deliveries.length === 3 && deliveries.every((d: any) => d.status === 'failed');
    }, 20_000, 'dead letters');
    const store = t.app.get<symbol, EventStore>(EVENT_STORE);
    await settle(store);
    const head = Number((await store.headPosition())!.commit);
    expect(head).toBeGreaterThan(2_000);

    const started = await t.request('POST', '/api/audit/replay');
    expect(started.status).toBe(202);
    // Ingest goes on while the replay runs.
    const during = Date.now();
    const more = await postWebhook(t.url, 'siem', SECRET, { event_type: 'security_alert', data: { alert_id: 'during-replay', severity: 'high' } });
    expect(more.status).toBe(202);
    expect(Date.now() - during).toBeLessThan(2_000);
    const job = await waitForJob(t, `/api/audit/replay/${started.body.id}`);
    expect(job.state, job.error).toBe('done');
    expect(job.progress.events).toBeGreaterThanOrEqual(head);
    const { projections } = job.result;
    const readSide = t.app.get(ReadSideRunner);
    expect(projections.map((p: any) => p.name).sort()).toEqual([...readSide.projectionPositions().keys()].sort());
    for (const projection of projections) {
      expect(projection, projection.name).toMatchObject({ equal: true, sample_diffs: [], failed: 0 });
      expect(projection.rebuilt_rows).toBe(projection.rows);
    }
    const rows = new Map(projections.map((p: any) => [p.name, p.rows]));
    expect(rows.get('audit-streams')).toBeGreaterThan(200);
    expect(projections.filter((p: any) => p.rows > 0).length).toBeGreaterThan(5);
  }, 120_000);

  it('traces one alert from its webhook receipt to every delivery attempt, with causation links', async () => {
    const answer = await postWebhook(t.url, 'email-gateway', SECRET, defenderEmail({ sender: 'billing@paypa1.com', id: 'trace-1' }));
    const incidentId = answer.body.incident_id;
    await triaged(t, incidentId);
    // Every delivery of the incident's security events done, the flaky webhook's after a retry.
    const trace = await eventually(async () => {
      const got = await t.request('GET', `/api/incidents/${incidentId}/trace`);
      expect(got.status).toBe(200);
      const attempts = got.body.events.filter((e: any) => e.type === 'DeliverySucceeded');
      const deliveries = got.body.events.filter((e: any) => e.type === 'DeliveryScheduled');
      return deliveries.length >= 2 && attempts.length === deliveries.length && got.body;
    }, 15_000, 'every delivery of the trace');
    const stages = trace.events.map((e: any) => e.stage);
    const first = (stage: string) => stages.indexOf(stage);
    for (const stage of ['receipt', 'incident', 'triage', 'security_event', 'delivery', 'attempt']) expect(stages, stage).toContain(stage);
    expect(first('receipt')).toBe(0);
    expect(first('receipt') < first('incident') && first('incident') < first('security_event') && first('security_event') < first('delivery')).toBe(true);
    expect(first('delivery')).toBeLessThan(first('attempt'));
    const positions = trace.events.map((e: any) => Number(e.position.split('/')[0]));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    const byType = (type: string) => trace.events.filter((e: any) => e.type === type);
    const [received] = byType('AlertReceived');
    expect(byType('IncidentOpened')[0].caused_by).toBe(received.id);
    const recorded = new Set(byType('SecurityEventRecorded').map((e: any) => e.id));
    for (const delivery of byType('DeliveryScheduled')) expect(recorded.has(delivery.caused_by)).toBe(true);
    expect(byType('TriageStepCompleted').length).toBeGreaterThan(0);
    expect(byType('DeliveryRetryScheduled').length).toBeGreaterThan(0);

    // The same chain from the receipt's correlation id; another organisation cannot see it.
    const byCorrelation = await t.request('GET', `/api/audit/trace/${received.correlation_id}`);
    expect(byCorrelation.status).toBe(200);
    expect(byCorrelation.body.events.map((e: any) => e.id)).toEqual(expect.arrayContaining(trace.events.filter((e: any) => e.stage !== 'other').map((e: any) => e.id)));
    const other = (await t.request('POST', '/api/organisations', { name: 'Outsider' })).body.id;
    const key = (await t.request('POST', `/api/organisations/${other}/api-keys`, { name: 'a', scopes: ['audit:read'] })).body.key;
    expect((await t.request('GET', `/api/audit/trace/${received.correlation_id}`, undefined, key)).status).toBe(404);
    expect((await t.request('GET', `/api/incidents/${incidentId}/trace`, undefined, key)).status).toBe(404);
  });

  it('is the instance admin’s only', async () => {
    const org = (await t.request('POST', '/api/organisations', { name: 'NoReplay' })).body.id;
    const key = (await t.request('POST', `/api/organisations/${org}/api-keys`, { name: 'a', scopes: ['admin'] })).body.key;
    expect((await t.request('POST', '/api/audit/replay', undefined, key)).status).toBe(403);
  });
});
