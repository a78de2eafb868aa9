import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { postWebhook } from '../fixtures/webhooks';
import { startTestApp, type TestApp } from '../support/test-app';

const SECRET = 'your-secret-key';

/**
 * A signed alert under the body limit whose recorded event would be over the maximum append size (the body is
 * kept verbatim, as a JSON string inside the event, so a ~1 MB body full of quotes and backslashes, escaped
 * once more there, is a ~2 MB event): refused 413 before anything is written, on the embedded store and on
 * EventStoreDB, which would refuse the append itself after the fact (MaxAppendSize). Shared by the two
 * spec files beside it, one store each.
 */
export function describeEventTooLarge(name: string, env: Record<string, string>): void {
  describe(`an alert too large for the store (${name})`, () => {
    let t: TestApp;
    let store: EventStore;
    const source = `big-${Math.random().toString(36).slice(2, 10)}`;

    beforeAll(async () => {
      t = await startTestApp({ env });
      store = t.app.get<symbol, EventStore>(EVENT_STORE);
      const registered = await t.request('POST', '/api/webhooks', { source, secret: SECRET });
      expect(registered.status).toBe(201);
    });
    afterAll(async () => {
      await t?.close();
    });

    const alert = (id: string, blob: string) => ({
      event_type: 'security_alert',
      timestamp: '2024-01-15T10:00:00Z',
      source,
      data: { alert_id: id, severity: 'high', details: { blob } },
    });
    const receipts = async () => (await store.readAll({ filter: { streamPrefixes: ['alert-'] } })).length;

    it('answers 413 event_too_large and records nothing', async () => {
      const before = await receipts();
      // Unique: a long-lived EventStoreDB node keeps every earlier run's incidents.
      const id = `huge-${source}`;
      const payload = JSON.stringify(alert(id, '"\\'.repeat(249_000)));
      expect(Buffer.byteLength(payload)).toBeLessThan(1024 * 1024); // under TW_BODY_LIMIT: only the store's limit applies
      const answer = await postWebhook(t.url, source, SECRET, payload);
      expect(answer.status).toBe(413);
      expect(answer.body.error).toMatchObject({ code: 'event_too_large', details: { max_append_size: 1024 * 1024 } });
      expect(answer.body.error.details.size).toBeGreaterThan(1024 * 1024);
      // Nothing of it in the log, and no incident opened for it.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await receipts()).toBe(before);
      const incidents = await t.request('GET', '/api/incidents');
      expect(JSON.stringify(incidents.body)).not.toContain(id);
    });

    it('still accepts an alert under the limit', async () => {
      const answer = await postWebhook(t.url, source, SECRET, alert('fits-1', 'x'.repeat(200_000)));
      expect(answer.status).toBe(202);
    });
  });
}
