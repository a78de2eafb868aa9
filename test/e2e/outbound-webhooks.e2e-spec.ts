import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { startTestApp, type TestApp } from '../support/test-app';

describe('webhooks: managing them', () => {
  let t: TestApp;
  let org: string;
  const base = () => `/api/organisations/${org}/webhooks`;

  beforeAll(async () => {
    // No allowlist and no insecure webhooks: the production defaults.
    t = await startTestApp();
    org = (await t.request('POST', '/api/organisations', { name: 'Hooks' })).body.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates, reads, updates and deletes a webhook; the secret and header values are shown never again', async () => {
    const project = (await t.request('POST', `/api/organisations/${org}/projects`, { name: 'web' })).body.id;
    const created = await t.request('POST', base(), {
      url: 'https://siem.example.com/hooks/towline',
      event_types: ['finding.created', 'posture.grade_changed'],
      project_ids: [project],
      format: 'splunk_hec',
      headers: { Authorization: 'Splunk 1234-secret-token' },
      description: 'Splunk',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      organisation_id: org,
      url: 'https://siem.example.com/hooks/towline',
      format: 'splunk_hec',
      event_types: ['finding.created', 'posture.grade_changed'],
      project_ids: [project],
      headers: { Authorization: '[redacted]' },
      description: 'Splunk',
      enabled: true,
      disabled_reason: null,
      secret: expect.stringMatching(/^whsec_/),
      health: { attempts: 0, success_rate: null, consecutive_failures: 0, circuit: { state: 'closed', open_until: null } },
    });
    expect(created.body.secrets).toEqual([{ id: expect.any(String), created_at: expect.any(String), expires_at: null }]);
    const { id, secret } = created.body;

    const got = await t.request('GET', `${base()}/${id}`);
    expect(got.status).toBe(200);
    expect(got.body.secret).toBeUndefined();
    expect(JSON.stringify(got.body)).not.toContain('1234-secret-token');
    expect((await t.request('GET', base())).body.map((w: any) => w.id)).toContain(id);

    const patched = await t.request('PATCH', `${base()}/${id}`, { event_types: null, project_ids: null, format: 'envelope', enabled: false, headers: {} });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ event_types: null, project_ids: null, format: 'envelope', enabled: false, headers: {}, url: created.body.url });

    // The secret and the token exist only sealed: not in any event, in clear.
    const store = t.app.get<symbol, EventStore>(EVENT_STORE);
    const everything = JSON.stringify((await store.readAll()).map((e) => e.data));
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(secret.slice(6));
    expect(everything).not.toContain('1234-secret-token');

    expect((await t.request('DELETE', `${base()}/${id}`)).status).toBe(204);
    expect((await t.request('GET', `${base()}/${id}`)).status).toBe(404);
    expect((await t.request('DELETE', `${base()}/${id}`)).status).toBe(404);
  });

  it('keeps a secret the caller chose, and checks its format', async () => {
    const chosen = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const created = await t.request('POST', base(), { url: 'https://a.example.com/', secret: chosen });
    expect(created.status).toBe(201);
    expect(created.body.secret).toBeUndefined();
    // Any shared string of at least 16 characters, as the seed's receivers are configured with.
    const shared = await t.request('POST', base(), { url: 'https://a.example.com/', secret: 'plain-text-secret-of-some-length' });
    expect(shared.status).toBe(201);
    expect(shared.body.secret).toBeUndefined();
    for (const secret of ['short-secret', 'whsec_short', 'whsec_' + 'A'.repeat(100)]) {
      const refused = await t.request('POST', base(), { url: 'https://a.example.com/', secret });
      expect(refused, secret).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    }
    await t.request('DELETE', `${base()}/${created.body.id}`);
    await t.request('DELETE', `${base()}/${shared.body.id}`);
  });

  it('validates event types, projects, formats and headers', async () => {
    const other = (await t.request('POST', '/api/organisations', { name: 'Other' })).body.id;
    const theirProject = (await t.request('POST', `/api/organisations/${other}/projects`, { name: 'theirs' })).body.id;
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 'https://a.example.com/', event_types: ['finding.exploded'] }, 'event_types'],
      [{ url: 'https://a.example.com/', event_types: [] }, 'event_types'],
      [{ url: 'https://a.example.com/', project_ids: [theirProject] }, 'project_ids'],
      [{ url: 'https://a.example.com/', project_ids: ['not-a-uuid'] }, 'project_ids'],
      [{ url: 'https://a.example.com/', format: 'xml' }, 'format'],
      [{ url: 'https://a.example.com/', headers: { 'X-Towline-Signature': 'sha256=forged' } }, 'headers'],
      [{ url: 'https://a.example.com/', headers: { 'webhook-signature': 'v1,forged' } }, 'headers'],
      [{ url: 'https://a.example.com/', headers: { Host: 'internal' } }, 'headers'],
      [{ url: 'https://a.example.com/', headers: { 'Transfer-Encoding': 'chunked' } }, 'headers'],
      [{ url: 'https://a.example.com/', headers: { 'X-Ok': 'a\r\nX-Injected: 1' } }, 'headers'],
      [{ url: 'https://a.example.com/', headers: { 'Bad Name': 'x' } }, 'headers'],
      [{ url: 'https://a.example.com/', headers: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, 'v'])) }, 'headers'],
      [{ url: 'https://a.example.com/', headers: { 'X-Big': 'v'.repeat(1025) } }, 'headers'],
      [{ url: 'https://a.example.com/', surprise: true }, 'surprise'],
    ];
    for (const [body, field] of cases) {
      const response = await t.request('POST', base(), body);
      expect(response, JSON.stringify(body)).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
      expect(JSON.stringify(response.body.error.details), JSON.stringify(body)).toContain(field);
    }
  });

  it('requires https, and refuses URLs the SSRF guard forbids, however they are spelled', async () => {
    const insecure = await t.request('POST', base(), { url: 'http://siem.example.com/hook' });
    expect(insecure).toMatchObject({ status: 400, body: { error: { code: 'invalid_url' } } });
    for (const url of ['ftp://example.com/', 'https://user:pass@example.com/', 'not a url', 'https://example.com/#x']) {
      expect((await t.request('POST', base(), { url })).body.error.code, url).toBe('invalid_url');
    }
    for (const url of [
      'https://169.254.169.254/latest/meta-data/',
      'https://10.0.0.1/',
      'https://[::1]/',
      'https://0x7f000001/',
      'https://2130706433/',
      'https://0177.0.0.1/',
      'https://127.1/',
      'https://localhost:8443/',
      'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:169.254.169.254]/',
      'https://[64:ff9b::a00:1]/',
      'https://[fe80::1]/',
      'https://[fd00::1]/',
      'https://100.64.0.1/',
      'https://192.168.1.1/',
      'https://172.16.0.1/',
      'https://0.0.0.0/',
      'https://224.0.0.1/',
      'https://198.51.100.7/',
      'https://[2001:db8::1]/',
      'https://[2002:7f00:1::]/',
    ]) {
      const refused = await t.request('POST', base(), { url });
      expect(refused, url).toMatchObject({ status: 400, body: { error: { code: 'unsafe_url' } } });
    }
    const patch = await t.request('POST', base(), { url: 'https://public.example.com/' });
    const moved = await t.request('PATCH', `${base()}/${patch.body.id}`, { url: 'https://169.254.169.254/' });
    expect(moved).toMatchObject({ status: 400, body: { error: { code: 'unsafe_url' } } });
    await t.request('DELETE', `${base()}/${patch.body.id}`);
  });

  it('refuses the 11th webhook of an organisation, even when many are created at once', async () => {
    const crowded = (await t.request('POST', '/api/organisations', { name: 'Crowded' })).body.id;
    const attempts = await Promise.all(
      Array.from({ length: 16 }, (_, i) => t.request('POST', `/api/organisations/${crowded}/webhooks`, { url: `https://h${i}.example.com/` })),
    );
    expect(attempts.filter((a) => a.status === 201)).toHaveLength(10);
    const refused = attempts.filter((a) => a.status !== 201);
    expect(refused).toHaveLength(6);
    for (const r of refused) expect(r.body.error.code).toBe('webhook_limit_reached');
    expect(refused[0].status).toBe(409);
    expect((await t.request('GET', `/api/organisations/${crowded}/webhooks`)).body).toHaveLength(10);

    // Deleting one frees its place.
    await t.request('DELETE', `/api/organisations/${crowded}/webhooks/${attempts.find((a) => a.status === 201)!.body.id}`);
    expect((await t.request('POST', `/api/organisations/${crowded}/webhooks`, { url: 'https://again.example.com/' })).status).toBe(201);
  });

  it('needs webhooks:write to change and read to list, and hides other organisations', async () => {
    const reader = (await t.request('POST', `/api/organisations/${org}/api-keys`, { name: 'r', scopes: ['read'] })).body.key;
    const writer = (await t.request('POST', `/api/organisations/${org}/api-keys`, { name: 'w', scopes: ['webhooks:write'] })).body.key;
    expect((await t.request('POST', base(), { url: 'https://x.example.com/' }, reader)).status).toBe(403);
    const created = await t.request('POST', base(), { url: 'https://x.example.com/' }, writer);
    expect(created.status).toBe(201);
    expect((await t.request('GET', base(), undefined, reader)).status).toBe(200);

    const other = (await t.request('POST', '/api/organisations', { name: 'Elsewhere' })).body.id;
    const otherKey = (await t.request('POST', `/api/organisations/${other}/api-keys`, { name: 'a', scopes: ['admin'] })).body.key;
    for (const [method, path] of [
      ['GET', `${base()}/${created.body.id}`],
      ['GET', base()],
      ['DELETE', `${base()}/${created.body.id}`],
      ['GET', `/api/organisations/${other}/webhooks/${created.body.id}`],
    ]) {
      expect((await t.request(method, path, undefined, otherKey)).status, `${method} ${path}`).toBe(404);
    }
    await t.request('DELETE', `${base()}/${created.body.id}`);
  });
});
