import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';

describe('organisations, projects and API keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('has a default organisation from first start', async () => {
    const { status, body } = await t.request('GET', '/api/organisations');
    expect(status).toBe(200);
    expect(body).toEqual([expect.objectContaining({ name: 'default' })]);
    const byAlias = await t.request('GET', '/api/organisations/default');
    expect(byAlias.body.id).toBe(body[0].id);
  });

  it('creates an organisation, a project and a scoped key, then uses and revokes the key', async () => {
    const org = await t.request('POST', '/api/organisations', { name: 'Acme' });
    expect(org.status).toBe(201);
    expect(org.body).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'Acme' });

    const project = await t.request('POST', `/api/organisations/${org.body.id}/projects`, { name: 'payments' });
    expect(project.status).toBe(201);
    expect(project.body).toMatchObject({ name: 'payments' });

    const key = await t.request('POST', `/api/organisations/${org.body.id}/api-keys`, { name: 'reader', scopes: ['read'] });
    expect(key.status).toBe(201);
    expect(key.body.key).toMatch(/^tw_[A-Za-z0-9_-]{43}$/);
    expect(key.body).toMatchObject({ name: 'reader', scopes: ['read'] });

    const projects = await t.request('GET', `/api/organisations/${org.body.id}/projects`, undefined, key.body.key);
    expect(projects.status).toBe(200);
    expect(projects.body.map((p: { name: string }) => p.name)).toEqual(['payments']);

    const listed = await t.request('GET', `/api/organisations/${org.body.id}/api-keys`);
    expect(listed.body).toEqual([expect.objectContaining({ id: key.body.id, name: 'reader', revoked_at: null })]);
    expect(JSON.stringify(listed.body)).not.toContain(key.body.key);

    const revoked = await t.request('DELETE', `/api/organisations/${org.body.id}/api-keys/${key.body.id}`);
    expect(revoked.status).toBe(204);
    const after = await t.request('GET', `/api/organisations/${org.body.id}/projects`, undefined, key.body.key);
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthorized');
  });

  it('refuses a missing or bad key with 401 and a missing scope with 403', async () => {
    const missing = await t.request('GET', '/api/organisations', undefined, null);
    expect(missing).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    const bad = await t.request('GET', '/api/organisations', undefined, 'tw_' + 'x'.repeat(43));
    expect(bad).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });

    const reader = await t.request('POST', '/api/organisations/default/api-keys', { name: 'r', scopes: ['read'] });
    const write = await t.request('POST', '/api/organisations/default/projects', { name: 'nope' }, reader.body.key);
    expect(write).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    const createOrg = await t.request('POST', '/api/organisations', { name: 'Other' }, reader.body.key);
    expect(createOrg).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
  });

  it("answers 404 for another organisation's resources, exactly as for unknown ones", async () => {
    const mine = await t.request('POST', '/api/organisations', { name: 'Mine' });
    const theirs = await t.request('POST', '/api/organisations', { name: 'Theirs' });
    const key = await t.request('POST', `/api/organisations/${mine.body.id}/api-keys`, { name: 'admin', scopes: ['admin'] });
    const theirKey = await t.request('POST', `/api/organisations/${theirs.body.id}/api-keys`, { name: 'x', scopes: ['read'] });

    for (const path of [
      `/api/organisations/${theirs.body.id}`,
      `/api/organisations/${theirs.body.id}/projects`,
      `/api/organisations/${theirs.body.id}/api-keys`,
      '/api/organisations/00000000-0000-4000-8000-000000000000',
      '/api/organisations/not-a-uuid',
    ]) {
      const response = await t.request('GET', path, undefined, key.body.key);
      expect(response, path).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    }
    const revokeTheirs = await t.request(
      'DELETE',
      `/api/organisations/${mine.body.id}/api-keys/${theirKey.body.id}`,
      undefined,
      key.body.key,
    );
    expect(revokeTheirs.status).toBe(404);
    const list = await t.request('GET', '/api/organisations', undefined, key.body.key);
    expect(list.body.map((o: { id: string }) => o.id)).toEqual([mine.body.id]);
  });

  it('refuses a duplicate project name with 409', async () => {
    await t.request('POST', '/api/organisations/default/projects', { name: 'dup' });
    const again = await t.request('POST', '/api/organisations/default/projects', { name: 'DUP' });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'project_exists' } } });
  });

  it('validates bodies: wrong types, unknown fields, unknown scopes, malformed and hostile JSON', async () => {
    const cases: [unknown, string][] = [
      [{ name: 5 }, 'invalid_request'],
      [{ name: 'x', admin: true }, 'invalid_request'],
      [{}, 'invalid_request'],
      ['{"name":', 'invalid_request'],
      ['{"__proto__":{"name":"x"}}', 'invalid_request'],
      ['['.repeat(65) + ']'.repeat(65), 'invalid_request'],
    ];
    for (const [body, code] of cases) {
      const response = await t.request('POST', '/api/organisations', body);
      expect(response, JSON.stringify(body)).toMatchObject({ status: 400, body: { error: { code } } });
    }
    const scopes = await t.request('POST', '/api/organisations/default/api-keys', { name: 'k', scopes: ['root'] });
    expect(scopes).toMatchObject({ status: 400, body: { error: { code: 'invalid_request', details: [{ field: 'scopes' }] } } });
  });

  it('answers 413 past the body limit and 415 for non-JSON bodies', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(1024 * 1024) });
    expect((await t.request('POST', '/api/organisations', big)).body.error.code).toBe('payload_too_large');
    const response = await fetch(`${t.url}/api/organisations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'text/plain' },
      body: 'name=x',
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({ error: { code: 'unsupported_media_type', message: expect.any(String) } });
  });

  it('answers unknown routes with not_found and never leaks a stack trace', async () => {
    const response = await t.request('GET', '/api/nothing-here');
    expect(response).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  it('records the actor in event metadata and no key material in any event', async () => {
    const org = await t.request('POST', '/api/organisations', { name: 'Audited' });
    const key = await t.request('POST', `/api/organisations/${org.body.id}/api-keys`, { name: 'k', scopes: ['admin'] });
    await t.request('POST', `/api/organisations/${org.body.id}/projects`, { name: 'p' }, key.body.key);
    const store = t.app.get<symbol, EventStore>(EVENT_STORE);
    const events = await store.readStream(`organisation-${org.body.id}`);
    expect(events.map((e) => [e.type, e.metadata.actor])).toEqual([
      ['OrganisationCreated', 'admin'],
      ['ApiKeyIssued', 'admin'],
      ['ProjectCreated', `api-key:${key.body.id}`],
    ]);
    const everything = JSON.stringify((await store.readAll()).map((e) => [e.data, e.metadata]));
    expect(everything).not.toContain(ADMIN_KEY);
    expect(everything).not.toContain(key.body.key);
  });

  it('serves health, the Swagger UI and the OpenAPI document without a key', async () => {
    const health = await t.request('GET', '/health', undefined, null);
    expect(health).toMatchObject({ status: 200, body: { status: 'ok', store: 'ok' } });
    expect((await fetch(`${t.url}/docs`)).status).toBe(200);
    const doc = await t.request('GET', '/openapi.json', undefined, null);
    expect(doc.body.paths['/api/organisations']).toBeDefined();
    expect(health.headers.get('x-request-id')).toBeTruthy();
  });
});
