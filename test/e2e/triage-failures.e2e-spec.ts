import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { defenderEmail, incidentEvents, incidentWhen, triaged } from '../fixtures/triage';
import { postWebhook } from '../fixtures/webhooks';
import { startTestApp, type TestApp } from '../support/test-app';

const SECRET = 'failures-secret-1';

/**
 * The default playbook's `enrich` step is made to outlast its timeout (testing.step_delay_ms counts as the
 * step's own time): every attempt fails, for real, on the step timeout.
 */
const CONFIG = `
sources:
  siem:
    secret: "${SECRET}"
    auto_triage: true
  email-gateway:
    secret: "${SECRET}"
    auto_triage: true
    playbook: phishing_triage
playbooks:
  retry:
    max_attempts: 2
    backoff_seconds: 1
    step_timeout_seconds: 1
  testing:
    step_delay_ms:
      default_triage.enrich: 3000
`;

describe('a triage step that keeps failing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'towline-triage-failures-'));
  const file = join(dir, 'webhook_config.yaml');
  let t: TestApp;

  beforeAll(async () => {
    writeFileSync(file, CONFIG);
    t = await startTestApp({ env: { TW_CONFIG: file } });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is retried with backoff a bounded number of times, then leaves the incident to manual triage, while other incidents are triaged', async () => {
    const failing = await postWebhook(t.url, 'siem', SECRET, { event_type: 'security_alert', data: { alert_id: 'flaky-1', severity: 'high', title: 'Beacon' } });
    const healthy = await postWebhook(t.url, 'email-gateway', SECRET, defenderEmail({ sender: 'someone@unknown.example' }));

    // The other incident is triaged meanwhile: one failing incident holds up no one.
    const other = await triaged(t, healthy.body.incident_id);
    expect(other).toMatchObject({ triage_status: 'completed', verdict: 'suspicious' });
    expect((await t.request('GET', `/api/incidents/${failing.body.incident_id}`)).body.status).toBe('open');

    const manual = await incidentWhen(t, failing.body.incident_id, (i) => i.status === 'needs_manual_triage', 15_000);
    expect(manual).toMatchObject({ triage_status: 'needs_manual', verdict: null });
    const [run] = manual.triage_runs;
    expect(run).toMatchObject({ playbook: 'default_triage', status: 'failed' });
    expect(run.steps.map((s: any) => s.step)).toEqual(['extract', 'dedup']);
    expect(run.failures).toEqual([
      { step: 'enrich', attempt: 1, error: 'step timed out after 1 s', retry_at: expect.any(String), failed_at: expect.any(String) },
      { step: 'enrich', attempt: 2, error: 'step timed out after 1 s', retry_at: null, failed_at: expect.any(String) },
    ]);
    // The retry waited for its due time (1 s backoff) — from the stored due time, not a loop.
    expect(Date.parse(run.failures[1].failed_at)).toBeGreaterThanOrEqual(Date.parse(run.failures[0].retry_at));

    const store = t.app.get<symbol, EventStore>(EVENT_STORE);
    const types = (await incidentEvents(store, failing.body.incident_id)).map((e) => e.type);
    expect(types.filter((type) => type === 'TriageStepCompleted')).toHaveLength(2);
    expect(types.slice(-2)).toEqual(['TriageStepFailed', 'IncidentNeedsManualTriage']);

    // A person takes over: from needs_manual_triage the lifecycle allows acknowledge, not verify.
    const verify = await t.request('POST', `/api/incidents/${failing.body.incident_id}/verify`, { passed: true });
    expect(verify).toMatchObject({ status: 409, body: { error: { code: 'invalid_transition', details: { current_state: 'needs_manual_triage' } } } });
    expect((await t.request('POST', `/api/incidents/${failing.body.incident_id}/acknowledge`)).body.status).toBe('acknowledged');
  });
});
