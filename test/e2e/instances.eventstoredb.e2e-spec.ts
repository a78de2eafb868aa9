import { afterAll, describe, expect, it } from 'vitest';
import { hydrate } from '../../src/cqrs/domain-event';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { InstanceService, INSTANCE_STREAM } from '../../src/organisations/instance.service';
import { connectionString, describeSkipped, fakeScript, startOwnFake, type OwnFake } from '../eventstoredb/support';
import { postWebhook } from '../fixtures/webhooks';
import { eventually, RECEIVER_ENV, startReceiver, type Receiver } from '../support/receiver';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';

/**
 * Several instances on one store (issue 10): they initialise the instance once between them, they serve one
 * flow — signed alert → incident → triage → security event → delivery — with gap-free incident numbers and
 * each delivery attempted once, and a read presenting the Towline-Consistency token of a write made on the
 * other instance sees it. Each test runs against a protocol fake of its own (fake-esdb.cjs: not EventStoreDB).
 */
if (!connectionString || !fakeScript) {
  describeSkipped('several instances on one EventStoreDB (needs the protocol fake)');
} else {
  describe('several instances on one store (against the protocol fake)', () => {
    const fakes: OwnFake[] = [];
    const apps: TestApp[] = [];
    const receivers: Receiver[] = [];
    const env = (fake: OwnFake, extra: Record<string, string> = {}) => ({
      ...RECEIVER_ENV,
      TW_EVENT_STORE: 'eventstoredb',
      EVENTSTORE_CONNECTION_STRING: fake.connectionString,
      TW_MASTER_KEY: 'e'.repeat(64),
      ...extra,
    });
    const start = async (fake: OwnFake, extra?: Record<string, string>) => {
      const app = await startTestApp({ env: env(fake, extra) });
      apps.push(app);
      return app;
    };
    afterAll(async () => {
      for (const app of apps) await app.close();
      await Promise.all(receivers.map((r) => r.close()));
      for (const fake of fakes) await fake.stop();
    });

    it('initialise the instance once when they start together on an empty store: one default organisation, one admin key', { timeout: 60_000 }, async () => {
      const fake = await startOwnFake();
      fakes.push(fake);
      // No TW_ADMIN_KEY: each would generate one; only the instance whose append wins may.
      const [a, b, c] = await Promise.all([0, 1, 2].map(() => start(fake, { TW_ADMIN_KEY: '' })));
      const ids = [a, b, c].map((app) => app.app.get(InstanceService).defaultOrganisationId);
      expect(new Set(ids).size).toBe(1);
      const recorded = await a.app.get<symbol, EventStore>(EVENT_STORE).readStream(INSTANCE_STREAM);
      const types = recorded.map((e) => hydrate(e)?.constructor.name);
      expect(types.filter((t) => t === 'InstanceInitialised')).toHaveLength(1);
      expect(types.filter((t) => t === 'AdminKeyGenerated')).toHaveLength(1);
      const organisations = await a.app.get<symbol, EventStore>(EVENT_STORE).readAll({ filter: { eventTypes: ['OrganisationCreated'] } });
      expect(organisations).toHaveLength(1);
    });

    it('serve one flow from both: gap-free incident numbers, triage, and one delivery per event', { timeout: 120_000 }, async () => {
      const fake = await startOwnFake();
      fakes.push(fake);
      const receiver = await startReceiver();
      receivers.push(receiver);
      const a = await start(fake);
      const b = await start(fake);
      const org = (await a.request('GET', '/api/organisations/default')).body.id;
      const source = await a.request('POST', '/api/webhooks', { source: 'cluster-edr', secret: 'cluster-secret-0001', auto_triage: true, playbook: 'malware_triage' });
      expect(source.status, JSON.stringify(source.body)).toBe(201);
      const hook = await a.request('POST', `/api/organisations/${org}/webhooks`, { url: `${receiver.url}/siem`, event_types: ['finding.created'] });
      expect(hook.status, JSON.stringify(hook.body)).toBe(201);
      // The source must be known on B before B can take its alerts (its read model follows the store).
      await eventually(async () => (await b.request('GET', '/api/webhooks/cluster-edr')).status === 200, 20_000, 'B to know the source');

      const alerts = Array.from({ length: 24 }, (_, i) => ({ event_type: 'security_alert', data: { alert_id: `c-${i}`, severity: 'high', hostname: `host-${i}` } }));
      const answers = await Promise.all(alerts.map((alert, i) => postWebhook((i % 2 ? b : a).url, 'cluster-edr', 'cluster-secret-0001', alert)));
      for (const answer of answers) expect(answer.status, JSON.stringify(answer.body)).toBe(202);
      const numbers = answers.map((answer) => Number(String(answer.body.incident_number).split('-').at(-1))).sort((x, y) => x - y);
      expect(numbers).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));

      // Each incident's finding.created reaches the SIEM once, whichever instance delivered it.
      await receiver.waitFor(24, 60_000);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const delivered = receiver.requests.map((r) => r.headers['x-towline-delivery']);
      expect(new Set(delivered).size).toBe(24);
      expect(delivered).toHaveLength(24);
      expect(receiver.maxConcurrentPerDelivery()).toBe(1);
      const incidents = answers.map((answer) => answer.body.incident_id as string);
      const triaged = await eventually(async () => {
        const views = await Promise.all(incidents.map(async (id) => (await b.request('GET', `/api/incidents/${id}`)).body));
        return views.every((v) => v.triage_runs?.[0]?.status === 'completed') ? views : null;
      }, 60_000, 'every incident triaged');
      expect(triaged).toHaveLength(24);
      const cancelled = (await b.request('GET', `/api/organisations/${org}/webhooks/${hook.body.id}/deliveries?status=cancelled`)).body.items;
      expect(cancelled).toEqual([]);
    });

    it("append with 'any' to one stream from both at once, and report the 409s that remain", { timeout: 60_000 }, async () => {
      const fake = await startOwnFake();
      fakes.push(fake);
      const a = await start(fake);
      const b = await start(fake);
      const org = (await a.request('POST', '/api/organisations', { name: 'Any' })).body.id;
      await eventually(async () => (await b.request('GET', `/api/organisations/${org}`)).status === 200, 20_000, 'B to know the organisation');
      // Every security event of an organisation is appended to its one stream with expectedRevision 'any'.
      const published = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          (i % 2 ? b : a).request('POST', `/api/organisations/${org}/events`, {
            event_type: 'finding.created',
            data: { finding_id: `any-${i}`, title: `Any ${i}`, severity: 'low', category: 'prompt_injection' },
          }),
        ),
      );
      const conflicts = published.filter((p) => p.status === 409).length;
      console.log(`two instances, 50 concurrent 'any' appends to one stream: ${conflicts} answered 409`);
      expect(conflicts).toBe(0);
      expect(published.every((p) => p.status === 201)).toBe(true);
      const listed = await eventually(async () => {
        const items = (await a.request('GET', `/api/organisations/${org}/events?limit=100`)).body.items;
        return items?.length === 50 ? items : null;
      }, 20_000, 'all 50 events listed');
      expect(new Set(listed.map((e: { id: string }) => e.id)).size).toBe(50);
    });

    it('answer a read on one instance with the write made on the other, given its consistency token', { timeout: 60_000 }, async () => {
      const fake = await startOwnFake();
      fakes.push(fake);
      const a = await start(fake);
      const b = await start(fake);
      for (let i = 0; i < 10; i++) {
        const created = await a.request('POST', '/api/organisations', { name: `Across ${i}` });
        expect(created.status).toBe(201);
        const token = created.headers.get('towline-consistency')!;
        const read = await fetch(`${b.url}/api/organisations/${created.body.id}`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, 'towline-consistency': token } });
        expect(read.status, `organisation ${i} on the other instance`).toBe(200);
      }
    });
  });
}
