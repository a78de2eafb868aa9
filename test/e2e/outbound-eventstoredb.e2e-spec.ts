import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReadSideRunner } from '../../src/cqrs/read-side.runner';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { DeliveriesProjection } from '../../src/outbound/projections/deliveries.projection';
import { connectionString, describeSkipped, fakeScript, startOwnFake, type OwnFake } from '../eventstoredb/support';
import { eventually, RECEIVER_ENV, startReceiver, type Receiver } from '../support/receiver';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';

const finding = (i: number) => ({
  event_type: 'finding.created',
  data: { finding_id: `f-${i}`, title: `Finding ${i}`, severity: 'high', category: 'prompt_injection', owasp_category: 'LLM01' },
});

/**
 * Two instances on one store, delivering (issue 10 points 1 and 7): a second instance starting on an empty
 * data directory cancels nothing, two instances never attempt one delivery at once, and deliveries that wait
 * write nothing while they wait. Runs against a protocol fake of its own (fake-esdb.cjs: not EventStoreDB).
 */
if (!connectionString || !fakeScript) {
  describeSkipped('outbound delivery with two instances on EventStoreDB (needs the protocol fake)');
} else {
  describe('outbound delivery with two instances on one store (against the protocol fake)', () => {
    let fake: OwnFake;
    const apps: TestApp[] = [];
    const receivers: Receiver[] = [];
    const env = () => ({
      ...RECEIVER_ENV,
      TW_EVENT_STORE: 'eventstoredb',
      EVENTSTORE_CONNECTION_STRING: fake.connectionString,
      TW_MASTER_KEY: 'd'.repeat(64),
      TW_DELIVERY_BREAKER_THRESHOLD: '100',
    });
    const stats = async () => (await (await fetch(`${fake.control}/stats`)).json()) as { calls: Record<string, number>; parks?: number; logSize: number };

    beforeAll(async () => {
      fake = await startOwnFake();
    });
    afterAll(async () => {
      for (const app of apps) await app.close();
      await Promise.all(receivers.map((r) => r.close()));
      await fake?.stop();
    });

    it('cancels nothing when a second instance starts on an empty data directory, and never attempts one delivery twice at once', { timeout: 90_000 }, async () => {
      // Slow answers: many attempts are in flight while the second instance starts and finds them due.
      const r = await startReceiver(() => ({ status: 200, delayMs: 150 }));
      receivers.push(r);
      const a = await startTestApp({ env: env() });
      apps.push(a);
      const org = (await a.request('POST', '/api/organisations', { name: 'Cluster' })).body.id;
      const hooks: { id: string }[] = [];
      for (let i = 0; i < 3; i++) hooks.push((await a.request('POST', `/api/organisations/${org}/webhooks`, { url: `${r.url}/h${i}` })).body);
      for (let i = 0; i < 20; i++) await a.request('POST', `/api/organisations/${org}/events`, finding(i));

      const b = await startTestApp({ env: env() });
      apps.push(b);
      for (let i = 20; i < 40; i++) {
        const published = await a.request('POST', `/api/organisations/${org}/events`, finding(i));
        expect(published.status, JSON.stringify(published.body)).toBe(201);
      }

      await r.waitFor(120, 60_000);
      // The second instance's own read model (it started on an empty data directory) shows every delivery made.
      const deliveriesOnB = b.app.get(DeliveriesProjection);
      const all = await eventually(() => {
        const flat = hooks.flatMap((hook) => deliveriesOnB.list(hook.id, { limit: 500 }).items);
        return flat.length === 120 && flat.every((d) => d.status === 'succeeded') ? flat : null;
      }, 30_000, 'every delivery succeeded, as the second instance sees it').catch((error: Error) => {
        const flat = hooks.flatMap((hook) => deliveriesOnB.list(hook.id, { limit: 500 }).items);
        const counts = flat.reduce<Record<string, number>>((c, d) => ({ ...c, [d.status]: (c[d.status] ?? 0) + 1 }), {});
        const positions = b.app.get(ReadSideRunner).status().map((c) => `${c.name}:${c.state}@${c.position}`);
        throw new Error(`${error.message}: ${flat.length} deliveries ${JSON.stringify(counts)}; ${positions.join(' ')}`);
      });
      expect(all.filter((d) => d.failure_reason !== null)).toEqual([]);
      expect(r.maxConcurrentPerDelivery()).toBe(1);
      // Each delivery reached the receiver exactly once: the claim let one instance make each attempt.
      const ids = r.requests.map((q) => q.headers['x-towline-delivery']);
      expect(new Set(ids).size).toBe(120);
      expect(ids).toHaveLength(120);
      // Both instances took part: each claimed attempts of its own.
      const store = a.app.get<symbol, EventStore>(EVENT_STORE);
      const claimants = new Set<string>();
      for (const id of new Set(ids)) {
        for (const event of await store.readStream(`delivery-${id}`)) {
          if (event.type === 'DeliveryAttemptClaimed') claimants.add((event.data as { instanceId: string }).instanceId);
        }
      }
      expect(claimants.size).toBe(2);
    });

    it('answers a repeated Idempotency-Key with the first answer on the other instance', { timeout: 30_000 }, async () => {
      const [a, b] = apps;
      const org = (await a.request('POST', '/api/organisations', { name: 'Keys' })).body.id;
      const post = (t: TestApp) =>
        fetch(`${t.url}/api/organisations/${org}/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', 'idempotency-key': 'cluster-1' },
          body: JSON.stringify(finding(1)),
        });
      const first = await post(a);
      expect(first.status).toBe(201);
      await eventually(async () => (await b.request('GET', `/api/organisations/${org}/events`)).status === 200, 10_000, 'the second instance to know the organisation');
      const again = await post(b);
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(((await again.json()) as { id: string }).id).toBe(((await first.json()) as { id: string }).id);
      expect((await b.request('GET', `/api/organisations/${org}/events`)).body.items).toHaveLength(1);
    });

    it('writes nothing while deliveries wait for a retry', { timeout: 60_000 }, async () => {
      // An hour's retry step: after its first failure every delivery waits. Alone on the store: instances of one
      // cluster share one configuration, and the first test's would retry on their own short schedule.
      for (const app of apps.splice(0)) await app.close();
      const c = await startTestApp({ env: { ...env(), TW_DELIVERY_RETRY_SCHEDULE: '1h' } });
      apps.push(c);
      const down = await startReceiver(() => ({ status: 503 }));
      receivers.push(down);
      const org = (await c.request('POST', '/api/organisations', { name: 'Waiting' })).body.id;
      const hook = (await c.request('POST', `/api/organisations/${org}/webhooks`, { url: down.url })).body;
      for (let i = 0; i < 10; i++) await c.request('POST', `/api/organisations/${org}/events`, finding(i));
      await down.waitFor(10, 20_000);
      await eventually(async () => {
        const items = (await c.request('GET', `/api/organisations/${org}/webhooks/${hook.id}/deliveries`)).body.items;
        return items.length === 10 && items.every((d: any) => d.status === 'retrying');
      }, 10_000, 'ten deliveries waiting for their retry');
      await new Promise((resolve) => setTimeout(resolve, 500));
      const before = await stats();
      const store = c.app.get<symbol, EventStore>(EVENT_STORE);
      const head = await store.headPosition();
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      const after = await stats();
      const written = head ? (await store.readAll({ after: head, maxCount: 1000 })).map((e) => `${e.type}:${e.stream}`) : [];
      // Ten deliveries wait an hour: nothing is parked, re-parked or written meanwhile.
      expect(written).toEqual([]);
      expect(after.logSize).toBe(before.logSize);
      expect(down.requests).toHaveLength(10);
    });
  });
}
