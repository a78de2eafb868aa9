import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { incidentEvents, incidentWhen } from '../fixtures/triage';
import { postWebhook } from '../fixtures/webhooks';
import { startTestApp, type TestApp } from '../support/test-app';

const SECRET = 'sla-secret-0001';
const ENV = { TW_SLA_TARGETS: 'high=1s/2s,medium=1h/1d' };
const alert = (id: string, severity: string) => ({ event_type: 'security_alert', data: { alert_id: id, severity, title: `Alert ${id}` } });

const breaches = async (t: TestApp, incidentId: string) =>
  (await incidentEvents(t.app.get<symbol, EventStore>(EVENT_STORE), incidentId)).filter((e) => e.type === 'SlaBreached');

describe('SLA timers', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'towline-sla-'));
  let t: TestApp | undefined;
  afterAll(async () => {
    await t?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('records a breach once per clock, survives a restart without repeating it, and breaches clocks that ran out while down', async () => {
    t = await startTestApp({ dataDir, env: ENV });
    await t.request('POST', '/api/webhooks', { source: 'sla-edr', secret: SECRET });
    const late = (await postWebhook(t.url, 'sla-edr', SECRET, alert('late-1', 'high'))).body.incident_id;
    const prompt = (await postWebhook(t.url, 'sla-edr', SECRET, alert('prompt-1', 'medium'))).body.incident_id;
    const acknowledged = await t.request('POST', `/api/incidents/${prompt}/acknowledge`);
    expect(acknowledged.body.sla.acknowledge).toMatchObject({ target_seconds: 3600, met_at: acknowledged.body.acknowledged_at, breached: false });

    const breached = await incidentWhen(t, late, (i) => i.sla.resolve.breached, 10_000);
    expect(breached.sla).toEqual({
      acknowledge: { target_seconds: 1, due_at: expect.any(String), met_at: null, breached: true, breached_at: expect.any(String) },
      resolve: { target_seconds: 2, due_at: expect.any(String), met_at: null, breached: true, breached_at: expect.any(String) },
    });
    expect(Date.parse(breached.sla.resolve.due_at) - Date.parse(breached.opened_at)).toBe(2000);
    const recorded = await breaches(t, late);
    expect(recorded.map((e) => [e.data.kind, e.metadata.actor])).toEqual([
      ['acknowledge', 'system:sla'],
      ['resolve', 'system:sla'],
    ]);
    expect(Date.parse(recorded[1].data.breachedAt as string)).toBeGreaterThanOrEqual(Date.parse(breached.sla.resolve.due_at));
    expect(await breaches(t, prompt)).toEqual([]);

    const metrics = await fetch(`${t.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^incident_sla_breached\{kind="acknowledge",severity="high"\} 1$/m);
    expect(metrics).toMatch(/^incident_sla_breached\{kind="resolve",severity="high"\} 1$/m);
    expect(metrics).toMatch(/^incident_sla_running\{kind="acknowledge",severity="medium"\} 0$/m);
    expect(metrics).toMatch(/^incident_sla_running\{kind="resolve",severity="medium"\} 1$/m);

    // Opened just before a shutdown; its clocks run out while nothing runs.
    const whileDown = (await postWebhook(t.url, 'sla-edr', SECRET, alert('down-1', 'high'))).body.incident_id;
    await t.close();
    t = undefined;
    await new Promise((resolve) => setTimeout(resolve, 2_500));

    t = await startTestApp({ dataDir, env: ENV });
    const caughtUp = await incidentWhen(t, whileDown, (i) => i.sla.acknowledge.breached && i.sla.resolve.breached, 10_000);
    expect(caughtUp.status).toBe('open');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await breaches(t, late)).map((e) => e.id)).toEqual(recorded.map((e) => e.id));
    expect((await breaches(t, whileDown)).map((e) => e.data.kind)).toEqual(['acknowledge', 'resolve']);
    await t.close();
    t = undefined;
  });
});
