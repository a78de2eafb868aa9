import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { postWebhook } from '../fixtures/webhooks';
import { startTestApp, type TestApp } from '../support/test-app';

const alert = (id: string) => ({ event_type: 'security_alert', data: { alert_id: id, severity: 'medium' } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('webhook sources', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("registers a source from the seed's body and never shows its secret again", async () => {
    const created = await t.request('POST', '/api/webhooks', {
      source: 'email-gateway',
      secret: 'your-secret-key',
      auto_triage: true,
      playbook: 'phishing_triage',
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      source: 'email-gateway',
      organisation_id: expect.any(String),
      webhook_path: '/api/webhooks/email-gateway',
      auto_triage: true,
      playbook: 'phishing_triage',
      format: 'auto',
      severity_mapping: {},
      project_id: null,
      mode: 'sync',
      rate_limit: null,
      dedup_field: null,
      managed_by: 'api',
      secrets: [{ id: expect.any(String), created_at: expect.any(String), expires_at: null }],
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const fetched = await t.request('GET', '/api/webhooks/email-gateway');
    expect(fetched.body).toEqual(created.body);
    const listed = await t.request('GET', '/api/webhooks');
    expect(listed.body.map((s: { source: string }) => s.source)).toContain('email-gateway');

    const store = t.app.get<symbol, EventStore>(EVENT_STORE);
    const everything = JSON.stringify((await store.readAll()).map((e) => [e.data, e.metadata]));
    expect(everything).not.toContain('your-secret-key');
    expect(JSON.stringify([created.body, fetched.body, listed.body])).not.toContain('your-secret-key');
  });

  it('generates a secret when none is given, shown once, and it verifies', async () => {
    const created = await t.request('POST', '/api/webhooks', { source: 'generated', format: 'generic', mode: 'sync' });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await t.request('GET', '/api/webhooks/generated')).body.secret).toBeUndefined();
    expect((await postWebhook(t.url, 'generated', created.body.secret, alert('g-1'))).status).toBe(202);
  });

  it('validates registrations', async () => {
    const project = await t.request('POST', '/api/organisations/default/projects', { name: 'mail' });
    const other = await t.request('POST', '/api/organisations', { name: 'Elsewhere' });
    const otherProject = await t.request('POST', `/api/organisations/${other.body.id}/projects`, { name: 'theirs' });
    const bad: [string, Record<string, unknown>, string][] = [
      ['upper case', { source: 'Email', secret: 'abcdefgh' }, 'source'],
      ['leading dash', { source: '-x', secret: 'abcdefgh' }, 'source'],
      ['slash', { source: 'a/b', secret: 'abcdefgh' }, 'source'],
      ['64 characters', { source: 'a'.repeat(64), secret: 'abcdefgh' }, 'source'],
      // Reserved: /api/webhooks/queue/:queue_id would shadow its GET /api/webhooks/queue/rejected.
      ['queue', { source: 'queue', secret: 'abcdefgh' }, 'source'],
      ['short secret', { source: 'ok-name', secret: 'short' }, 'secret'],
      ['null secret', { source: 'ok-name', secret: null }, 'secret'],
      ['playbook', { source: 'ok-name', playbook: 'Phishing Triage' }, 'playbook'],
      ['format', { source: 'ok-name', format: 'qradar' }, 'format'],
      ['mode', { source: 'ok-name', mode: 'later' }, 'mode'],
      ['auto_triage', { source: 'ok-name', auto_triage: 'yes' }, 'auto_triage'],
      ['severity_mapping', { source: 'ok-name', severity_mapping: { '4': 'urgent' } }, 'severity_mapping'],
      ['severity_mapping list', { source: 'ok-name', severity_mapping: ['high'] }, 'severity_mapping'],
      ['project_id', { source: 'ok-name', project_id: 'not-a-uuid' }, 'project_id'],
      ["another organisation's project", { source: 'ok-name', project_id: otherProject.body.id }, 'project_id'],
      ['unknown field', { source: 'ok-name', colour: 'red' }, 'colour'],
    ];
    for (const [name, body, field] of bad) {
      const response = await t.request('POST', '/api/webhooks', body);
      expect(response, name).toMatchObject({ status: 400, body: { error: { code: 'invalid_request', details: [expect.objectContaining({ field })] } } });
    }
    expect((await t.request('GET', '/api/webhooks/ok-name')).status).toBe(404);
    // A name that merely starts with it is an ordinary name.
    expect((await t.request('POST', '/api/webhooks', { source: 'queue-mail', secret: 'abcdefgh' })).status).toBe(201);

    const withProject = await t.request('POST', '/api/webhooks', {
      source: 'mail-filter',
      project_id: project.body.id,
      severity_mapping: { '4': 'critical', Phish: 'high' },
      format: 'defender_o365',
      mode: 'async',
    });
    expect(withProject).toMatchObject({
      status: 201,
      body: { project_id: project.body.id, severity_mapping: { '4': 'critical', Phish: 'high' }, format: 'defender_o365', mode: 'async' },
    });
  });

  it('refuses a name that is taken, in any organisation, with 409 source_exists', async () => {
    await t.request('POST', '/api/webhooks', { source: 'taken', secret: 'abcdefgh' });
    const again = await t.request('POST', '/api/webhooks', { source: 'taken', secret: 'abcdefgh' });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'source_exists', message: "Webhook source 'taken' already exists" } } });
    const org = await t.request('POST', '/api/organisations', { name: 'Also Wants It' });
    const elsewhere = await t.request('POST', '/api/webhooks', { source: 'taken', secret: 'abcdefgh', organisation_id: org.body.id });
    expect(elsewhere).toMatchObject({ status: 409, body: { error: { code: 'source_exists' } } });
  });

  it('updates some settings and leaves the others, refusing the secret and nulls where they make no sense', async () => {
    await t.request('POST', '/api/webhooks', { source: 'patched', secret: 'abcdefgh', playbook: 'malware_triage', auto_triage: true });
    const patched = await t.request('PATCH', '/api/webhooks/patched', { mode: 'async', severity_mapping: { sev5: 'critical' } });
    expect(patched).toMatchObject({
      status: 200,
      body: { mode: 'async', severity_mapping: { sev5: 'critical' }, playbook: 'malware_triage', auto_triage: true },
    });
    const cleared = await t.request('PATCH', '/api/webhooks/patched', { playbook: null, severity_mapping: null });
    expect(cleared.body).toMatchObject({ playbook: null, severity_mapping: {}, mode: 'async' });
    expect((await t.request('PATCH', '/api/webhooks/patched', { secret: 'abcdefghij' })).status).toBe(400);
    expect((await t.request('PATCH', '/api/webhooks/patched', { mode: null })).status).toBe(400);
    expect((await t.request('PATCH', '/api/webhooks/nothing-here', { mode: 'sync' })).status).toBe(404);
  });

  it('removes a source: its URL is then unknown, and the name can be registered again with a new secret', async () => {
    await t.request('POST', '/api/webhooks', { source: 'short-lived', secret: 'first-secret' });
    expect((await postWebhook(t.url, 'short-lived', 'first-secret', alert('s-1'))).status).toBe(202);
    expect((await t.request('DELETE', '/api/webhooks/short-lived')).status).toBe(204);
    expect(await postWebhook(t.url, 'short-lived', 'first-secret', alert('s-2'))).toEqual({
      status: 404,
      body: { error: { code: 'unknown_source', message: "Webhook source 'short-lived' is not registered" } },
    });
    expect((await t.request('GET', '/api/webhooks/short-lived')).status).toBe(404);
    expect((await t.request('DELETE', '/api/webhooks/short-lived')).status).toBe(404);

    // Free again, for any organisation.
    const org = await t.request('POST', '/api/organisations', { name: 'Next Owner' });
    const again = await t.request('POST', '/api/webhooks', { source: 'short-lived', secret: 'second-secret', organisation_id: org.body.id });
    expect(again.status).toBe(201);
    expect((await postWebhook(t.url, 'short-lived', 'first-secret', alert('s-3'))).status).toBe(401);
    expect((await postWebhook(t.url, 'short-lived', 'second-secret', alert('s-3'))).status).toBe(202);
  });

  it('rotates a secret: both verify during the grace period, then only the new one', async () => {
    await t.request('POST', '/api/webhooks', { source: 'rotating', secret: 'old-secret-1' });
    const rotated = await t.request('POST', '/api/webhooks/rotating/secrets', { secret: 'new-secret-1', grace_period_seconds: 2 });
    expect(rotated.status).toBe(201);
    expect(rotated.body).toEqual({
      secret_id: expect.any(String),
      previous_secrets_expire_at: expect.any(String),
      secrets: [
        { id: expect.any(String), created_at: expect.any(String), expires_at: rotated.body.previous_secrets_expire_at },
        { id: rotated.body.secret_id, created_at: expect.any(String), expires_at: null },
      ],
    });
    expect(Date.parse(rotated.body.previous_secrets_expire_at) - Date.parse(rotated.body.secrets[1].created_at)).toBe(2000);
    expect((await postWebhook(t.url, 'rotating', 'old-secret-1', alert('r-1'))).status).toBe(202);
    expect((await postWebhook(t.url, 'rotating', 'new-secret-1', alert('r-2'))).status).toBe(202);

    await sleep(Date.parse(rotated.body.previous_secrets_expire_at) - Date.now() + 50);
    expect((await postWebhook(t.url, 'rotating', 'old-secret-1', alert('r-3'))).body.error.code).toBe('invalid_signature');
    expect((await postWebhook(t.url, 'rotating', 'new-secret-1', alert('r-4'))).status).toBe(202);
    expect((await t.request('GET', '/api/webhooks/rotating')).body.secrets).toEqual([
      { id: rotated.body.secret_id, created_at: expect.any(String), expires_at: null },
    ]);
  });

  it('rotates with a generated secret, shown once, and a default grace period of 24 hours', async () => {
    await t.request('POST', '/api/webhooks', { source: 'rotating-2', secret: 'old-secret-2' });
    const rotated = await t.request('POST', '/api/webhooks/rotating-2/secrets', {});
    expect(rotated.body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(rotated.body.previous_secrets_expire_at) - Date.parse(rotated.body.secrets[1].created_at)).toBe(24 * 3600 * 1000);
    expect((await postWebhook(t.url, 'rotating-2', rotated.body.secret, alert('r2-1'))).status).toBe(202);
    expect((await postWebhook(t.url, 'rotating-2', 'old-secret-2', alert('r2-2'))).status).toBe(202);
    // Grace 0: every previous secret stops at once.
    const abrupt = await t.request('POST', '/api/webhooks/rotating-2/secrets', { secret: 'third-secret', grace_period_seconds: 0 });
    expect(abrupt.body.secrets).toHaveLength(1);
    expect((await postWebhook(t.url, 'rotating-2', rotated.body.secret, alert('r2-3'))).status).toBe(401);
    expect((await postWebhook(t.url, 'rotating-2', 'old-secret-2', alert('r2-3'))).status).toBe(401);
    expect((await postWebhook(t.url, 'rotating-2', 'third-secret', alert('r2-3'))).status).toBe(202);
    expect((await t.request('POST', '/api/webhooks/rotating-2/secrets', { grace_period_seconds: -1 })).status).toBe(400);
  });

  it('signs a fixed test event that posts unchanged, and signs nothing else', async () => {
    await t.request('POST', '/api/webhooks', { source: 'testable', secret: 'test-secret-1' });
    const incidentsBefore = (await t.request('GET', '/api/incidents')).body.length;
    // Whatever the caller sends, what gets signed is Towline's fixed test event: no signing oracle.
    const test = await t.request('POST', '/api/webhooks/testable/test-event', { body: '{"event_type":"security_alert"}' });
    expect(test.status).toBe(200);
    expect(JSON.parse(test.body.body)).toMatchObject({ event_type: 'test', source: 'testable' });
    expect(Object.keys(test.body.headers).sort()).toEqual(['Content-Type', 'X-Webhook-Signature', 'X-Webhook-Timestamp']);

    const posted = await fetch(`${t.url}/api/webhooks/testable`, { method: 'POST', headers: test.body.headers, body: test.body.body });
    expect(posted.status).toBe(202);
    expect(await posted.json()).toMatchObject({ status: 'accepted', incident_id: null, incident_number: null });
    const tampered = await fetch(`${t.url}/api/webhooks/testable`, {
      method: 'POST',
      headers: test.body.headers,
      body: test.body.body.replace('"test"', '"security_alert"'),
    });
    expect(tampered.status).toBe(401);
    expect((await t.request('GET', '/api/incidents')).body.length).toBe(incidentsBefore);
  });

  it("keeps organisations apart: another organisation's sources answer 404", async () => {
    const mine = await t.request('POST', '/api/organisations', { name: 'Source Owner' });
    const theirs = await t.request('POST', '/api/organisations', { name: 'Source Neighbour' });
    const myKey = (await t.request('POST', `/api/organisations/${mine.body.id}/api-keys`, { name: 'w', scopes: ['sources:write', 'read'] })).body.key;
    const theirKey = (await t.request('POST', `/api/organisations/${theirs.body.id}/api-keys`, { name: 'w', scopes: ['sources:write', 'read'] })).body.key;
    const readKey = (await t.request('POST', `/api/organisations/${mine.body.id}/api-keys`, { name: 'r', scopes: ['read'] })).body.key;

    const created = await t.request('POST', '/api/webhooks', { source: 'owned-edr', secret: 'owned-secret' }, myKey);
    expect(created).toMatchObject({ status: 201, body: { organisation_id: mine.body.id } });
    expect((await t.request('GET', '/api/webhooks', undefined, myKey)).body.map((s: { source: string }) => s.source)).toEqual(['owned-edr']);
    expect((await t.request('GET', '/api/webhooks', undefined, theirKey)).body).toEqual([]);

    for (const [method, path, body] of [
      ['GET', '/api/webhooks/owned-edr', undefined],
      ['PATCH', '/api/webhooks/owned-edr', { mode: 'async' }],
      ['DELETE', '/api/webhooks/owned-edr', undefined],
      ['POST', '/api/webhooks/owned-edr/secrets', {}],
      ['POST', '/api/webhooks/owned-edr/test-event', undefined],
      ['GET', `/api/webhooks?organisation_id=${mine.body.id}`, undefined],
    ] as const) {
      const response = await t.request(method, path, body, theirKey);
      expect(response, `${method} ${path}`).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    }
    const registerThere = await t.request('POST', '/api/webhooks', { source: 'sneaky', organisation_id: mine.body.id }, theirKey);
    expect(registerThere.status).toBe(404);

    // The instance admin reaches any organisation by naming it, and the default one otherwise.
    expect((await t.request('GET', '/api/webhooks/owned-edr')).status).toBe(404);
    expect((await t.request('GET', `/api/webhooks/owned-edr?organisation_id=${mine.body.id}`)).status).toBe(200);
    // Scopes: reading is not writing.
    expect((await t.request('GET', '/api/webhooks/owned-edr', undefined, readKey)).status).toBe(200);
    expect((await t.request('POST', '/api/webhooks', { source: 'x-1' }, readKey)).status).toBe(403);
    expect((await t.request('POST', '/api/webhooks/owned-edr/test-event', undefined, readKey)).status).toBe(403);
  });
});
