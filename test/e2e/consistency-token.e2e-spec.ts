import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePosition } from '../../src/event-store/event-store.port';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';

/** Read-your-writes across instances: the Towline-Consistency token (docs/architecture.md, "Layers"). */
describe('the consistency token', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { TW_CONSISTENCY_WAIT: '300ms' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const get = (path: string, token: string) =>
    fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, 'towline-consistency': token } });

  it('comes with every answer to a write, and a read presenting it sees the write', async () => {
    const first = await t.request('POST', '/api/organisations', { name: 'Token One' });
    expect(first.status).toBe(201);
    const token = first.headers.get('towline-consistency')!;
    expect(token).toMatch(/^\d+\/\d+$/);
    const second = await t.request('POST', '/api/organisations', { name: 'Token Two' });
    const later = second.headers.get('towline-consistency')!;
    expect(decodePosition(later).commit).toBeGreaterThan(decodePosition(token).commit);

    const read = await get(`/api/organisations/${second.body.id}`, later);
    expect(read.status).toBe(200);
    expect(((await read.json()) as { name: string }).name).toBe('Token Two');
    // A read that wrote nothing carries no token.
    expect(read.headers.get('towline-consistency')).toBeNull();
  });

  it('answers 503 with Retry-After when the read models have not reached the token in time', async () => {
    const answer = await get('/api/organisations', '999999999/999999999');
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('consistency_timeout');
  });

  it('refuses a token it never gave, naming the header', async () => {
    for (const bad of ['yesterday', '1/2/3', '-1/0', '']) {
      const answer = await get('/api/organisations', bad);
      if (bad === '') {
        expect(answer.status, 'an empty header is no token').toBe(200);
        continue;
      }
      expect(answer.status, bad).toBe(400);
      const body = (await answer.json()) as { error: { code: string; details: { field: string }[] } };
      expect(body.error.code).toBe('invalid_request');
      expect(body.error.details[0].field).toBe('towline-consistency');
    }
  });
});
