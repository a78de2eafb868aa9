import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReadSideRunner } from '../../src/cqrs/read-side.runner';
import { GENESIS_HASH } from '../../src/event-store/hash-chain';
import { postWebhook } from '../fixtures/webhooks';
import { startTestApp, type TestApp } from '../support/test-app';

const SECRET = 'poison-secret-1';
const INCIDENT_CONSUMERS = ['incident-list', 'incident-source-stats', 'incident-sla', 'outbound.incidents'];

const alert = (id: string) => ({ event_type: 'security_alert', data: { alert_id: id, severity: 'high', details: { host: 'ws-1' } } });

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * An event no consumer can handle — here one written straight into the store's file, as a bug or a hand
 * edit would leave it: shaped like an IncidentOpened but missing its fields. It must cost only what it
 * touches (its own incident), be parked where an operator sees it, and never stop other incidents, other
 * organisations, or the answers of synchronous webhooks.
 */
describe('a poison event in the log', () => {
  let t: TestApp;
  let otherOrg: string;
  const poisonIncident = randomUUID();

  beforeAll(async () => {
    t = await startTestApp();
    expect((await t.request('POST', '/api/webhooks', { source: 'edr', secret: SECRET })).status).toBe(201);
    otherOrg = (await t.request('POST', '/api/organisations', { name: 'Elsewhere' })).body.id;
    expect((await t.request('POST', '/api/webhooks', { source: 'siem', secret: SECRET, organisation_id: otherOrg })).status).toBe(201);
    expect((await postWebhook(t.url, 'edr', SECRET, alert('before'))).status).toBe(202);

    const file = new DatabaseSync(join(t.dataDir, 'towline.db'));
    file
      .prepare('INSERT INTO events (stream, revision, id, type, data, metadata, created) VALUES (?, 0, ?, ?, ?, ?, ?)')
      .run(`incident-${poisonIncident}`, randomUUID(), 'IncidentOpened', JSON.stringify({ incidentId: poisonIncident }), JSON.stringify({ hash: GENESIS_HASH }), Date.now());
    file.close();
  });
  afterAll(() => t?.close());

  it('is parked by each incident consumer while other incidents and organisations keep flowing', async () => {
    // Answered at once, with an incident that can be read and listed at once: the wait for the read side is not stuck.
    for (const [source, id] of [['siem', 'other-org-1'], ['edr', 'same-org-1'], ['siem', 'other-org-2']]) {
      const started = Date.now();
      const answer = await postWebhook(t.url, source, SECRET, alert(id));
      expect(answer).toMatchObject({ status: 202, body: { status: 'accepted', incident_number: expect.stringMatching(/^INC-/) } });
      expect(Date.now() - started).toBeLessThan(4_000);
      const query = source === 'siem' ? `?organisation_id=${otherOrg}` : '';
      expect((await t.request('GET', `/api/incidents/${answer.body.incident_id}${query}`)).body).toMatchObject({ vendor_alert_id: id, stale: false });
    }
    const listed = await t.request('GET', `/api/incidents?organisation_id=${otherOrg}`);
    expect(listed.body.items.map((i: { vendor_alert_id: string }) => i.vendor_alert_id).sort()).toEqual(['other-org-1', 'other-org-2']);

    // Security events still go out for the healthy incidents (the producer is one of the consumers that parked).
    const events = await until(
      async () => (await t.request('GET', `/api/organisations/${otherOrg}/events?type=finding.created`)).body,
      (body: { items?: unknown[] }) => (body.items?.length ?? 0) === 2,
    );
    expect(events.items).toHaveLength(2);

    // Health: degraded with the count, ready (a parked event never drains an instance), and the parked listed.
    const ready = await until(
      () => t.request('GET', '/health/ready'),
      (r) => INCIDENT_CONSUMERS.every((c) => r.body.parked?.some((p: { consumer: string }) => p.consumer === c)),
    );
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready', reasons: [] } });
    const health = await t.request('GET', '/health');
    expect(health).toMatchObject({ status: 200, body: { status: 'degraded', store: 'ok' } });
    expect(health.body.parked).toBeGreaterThanOrEqual(INCIDENT_CONSUMERS.length);

    const parked = await t.request('GET', '/api/read-side/parked?consumer=incident-list');
    expect(parked).toMatchObject({
      status: 200,
      body: [{ consumer: 'incident-list', partition: `incident-${poisonIncident}`, status: 'failed', type: 'IncidentOpened', revision: 0 }],
    });
    expect(parked.body[0].error).toEqual(expect.any(String));
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/read_side_parked_events\{consumer="incident-list"\} 1/);

    // Retried before the cause is fixed: it fails again and stays; the operator sees the same error.
    const retried = await t.request('POST', '/api/read-side/parked/retry', { consumer: 'incident-list' });
    expect(retried).toMatchObject({ status: 200, body: [{ partition: `incident-${poisonIncident}`, handled: 0, still_parked: 1 }] });
  });

  it('marks only the incident it touches as stale, and holds that incident\'s later events behind it', async () => {
    const first = await postWebhook(t.url, 'edr', SECRET, alert('touched-1'));
    const untouched = await postWebhook(t.url, 'edr', SECRET, alert('untouched-1'));
    const stream = `incident-${first.body.incident_id}`;
    const file = new DatabaseSync(join(t.dataDir, 'towline.db'));
    const { revision } = file.prepare('SELECT max(revision) AS revision FROM events WHERE stream = ?').get(stream) as { revision: number };
    file
      .prepare('INSERT INTO events (stream, revision, id, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(stream, revision + 1, randomUUID(), 'IncidentAssigned', JSON.stringify({ incidentId: first.body.incident_id, assignee: { not: 'a name' } }), JSON.stringify({ hash: GENESIS_HASH }), Date.now());
    file.close();

    // The next write to that incident is recorded in its stream, and waits behind the parked event in the list.
    expect((await t.request('POST', `/api/incidents/${first.body.incident_id}/acknowledge`)).status).toBe(200);
    const touched = await until(
      () => t.request('GET', `/api/incidents/${first.body.incident_id}`),
      (r) => r.body.stale === true,
    );
    expect(touched.body).toMatchObject({ status: 'open', stale: true });
    expect(touched.body.timeline.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['IncidentAssigned', 'IncidentAcknowledged']));
    const parked = (await t.request('GET', '/api/read-side/parked?consumer=incident-list')).body.filter((p: { partition: string }) => p.partition === stream);
    expect(parked.map((p: { type: string; status: string }) => [p.type, p.status])).toEqual([
      ['IncidentAssigned', 'failed'],
      ['IncidentAcknowledged', 'waiting'],
    ]);
    expect((await t.request('GET', `/api/incidents/${untouched.body.incident_id}`)).body).toMatchObject({ stale: false });
    expect((await t.request('POST', `/api/incidents/${untouched.body.incident_id}/acknowledge`)).body).toMatchObject({ status: 'acknowledged', stale: false });
  });

  it('is listed and retried by the instance admin only', async () => {
    const key = await t.request('POST', `/api/organisations/${otherOrg}/api-keys`, { name: 'org-admin', scopes: ['admin'] });
    expect((await t.request('GET', '/api/read-side/parked', undefined, key.body.key)).status).toBe(403);
    expect((await t.request('POST', '/api/read-side/parked/retry', { consumer: 'incident-list' }, key.body.key)).status).toBe(403);
    expect((await t.request('GET', '/api/read-side/parked?consumer=nope')).status).toBe(404);
    expect((await t.request('POST', '/api/read-side/parked/retry', { consumer: 42 })).status).toBe(400);
  });

  it('makes /health/ready answer 503 with the reasons once consumers stop, while /health/live still answers', async () => {
    await t.app.get(ReadSideRunner).stop();
    const ready = await t.request('GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'not_ready', reasons: expect.arrayContaining(["consumer 'incident-list' is stopped"]) });
    expect(await t.request('GET', '/health/live')).toMatchObject({ status: 200, body: { status: 'live' } });
    expect(await t.request('GET', '/health')).toMatchObject({ status: 200, body: { status: 'degraded' } });
  });
});
