import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, RECEIVER_ENV, startReceiver, type Receiver } from '../../../test/support/receiver';
import { startTestApp } from '../../../test/support/test-app';
import { ReadSideRunner } from '../../cqrs/read-side.runner';
import { EVENT_STORE, type EventStore } from '../../event-store/event-store.port';

const finding = (id: string) => ({ event_type: 'finding.created', data: { finding_id: id, title: `Leak ${id}`, severity: 'high' } });

/**
 * The planner matches each event against the webhooks as they were at the event's place in the log, while
 * it plans many events at once. Replaying the log from zero (read models deleted) plans every event again
 * long after the webhooks changed: a webhook matched to an event it did not match when the event was
 * recorded would show as a delivery that did not exist before.
 */
describe('delivery planner', () => {
  const receivers: Receiver[] = [];
  afterAll(async () => Promise.all(receivers.map((r) => r.close())));

  it('matches each event against the webhooks of its own time, and schedules nothing twice', async () => {
    const [r1, r2] = [await startReceiver(), await startReceiver()];
    receivers.push(r1, r2);
    const dataDir = mkdtempSync(join(tmpdir(), 'towline-planner-'));
    const first = await startTestApp({ env: RECEIVER_ENV, dataDir });
    let scheduled: string[];
    try {
      const w1 = (await first.request('POST', '/api/organisations/default/webhooks', { url: r1.url })).body;
      const w2 = (await first.request('POST', '/api/organisations/default/webhooks', { url: r2.url })).body;
      await first.request('POST', '/api/organisations/default/events', finding('e1'));
      await r1.waitFor(1);
      await r2.waitFor(1);
      expect((await first.request('PATCH', `/api/organisations/default/webhooks/${w2.id}`, { enabled: false })).status).toBe(200);
      // Published together, so the planner works on them at once.
      await Promise.all(['e2', 'e3', 'e4', 'e5'].map((id) => first.request('POST', '/api/organisations/default/events', finding(id))));
      await r1.waitFor(5);
      const store = first.app.get<symbol, EventStore>(EVENT_STORE);
      const all = await store.readAll({ filter: { eventTypes: ['SecurityEventRecorded', 'DeliveryScheduled'] } });
      scheduled = all.filter((e) => e.type === 'DeliveryScheduled').map((e) => `${e.data.eventId}/${e.data.webhookId}`).sort();
      expect(scheduled).toHaveLength(6);
      expect(scheduled.filter((s) => s.endsWith(w2.id))).toHaveLength(1);
      expect(scheduled.filter((s) => s.endsWith(w1.id))).toHaveLength(5);
      // Each delivery is caused by its own security event.
      const causes = new Map(all.filter((e) => e.type === 'SecurityEventRecorded').map((e) => [e.id, e.metadata.$correlationId]));
      for (const e of all.filter((e) => e.type === 'DeliveryScheduled')) {
        expect(e.metadata.$causationId).toBe(e.data.eventId);
        expect(e.metadata.$correlationId).toBe(causes.get(e.data.eventId as string));
        expect(e.metadata.actor).toBe('system:outbound.delivery-planner');
      }
    } finally {
      await first.close();
    }
    for (const file of ['read-models.db', 'read-models.db-wal', 'read-models.db-shm']) rmSync(join(dataDir, file), { force: true });

    const second = await startTestApp({ env: RECEIVER_ENV, dataDir });
    try {
      const runner = second.app.get(ReadSideRunner);
      await eventually(() => runner.status().every((c) => c.state === 'live'), 10_000, 'every consumer to catch up');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const all = await second.app.get<symbol, EventStore>(EVENT_STORE).readAll({ filter: { eventTypes: ['DeliveryScheduled'] } });
      expect(all.map((e) => `${e.data.eventId}/${e.data.webhookId}`).sort()).toEqual(scheduled);
      expect(r1.requests).toHaveLength(5);
      expect(r2.requests).toHaveLength(1);
    } finally {
      await second.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
