import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from '../support/test-app';
import { connectionString, describeSkipped, fakeScript, startOwnFake, type OwnFake } from './support';

if (!connectionString || !fakeScript) {
  describeSkipped('EventStoreDB over HTTP: 503 with Retry-After during an election (needs the protocol fake)');
} else {
  describe('EventStoreDB over HTTP: an election longer than the retry bound (against a protocol fake of its own)', () => {
    let fake: OwnFake;
    const control = (path: string) => fetch(`${fake.control}${path}`).then((r) => r.text());
    beforeAll(async () => {
      fake = await startOwnFake();
    });
    afterAll(async () => {
      await fake?.stop();
    });

    it('answers 503 store_unavailable with Retry-After over HTTP when the bound is spent', { timeout: 60_000 }, async () => {
      const t = await startTestApp({
        env: { TW_EVENT_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: fake.connectionString, TW_MASTER_KEY: 'c'.repeat(64) },
      });
      try {
        await control('/notleader?ms=20000');
        const answer = await t.request('POST', '/api/webhooks', { source: `src-${randomUUID().slice(0, 8)}`, secret: 'a-secret-of-some-length' });
        expect(answer.status).toBe(503);
        expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(answer.body).toEqual({ error: { code: 'store_unavailable', message: expect.any(String) } });
      } finally {
        await control('/notleader?ms=0');
        await t.close();
      }
    });
  });
}
