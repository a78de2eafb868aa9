import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook } from '../fixtures/webhooks';
import { eventually, RECEIVER_ENV, startReceiver, type Receiver } from '../support/receiver';
import { startTestApp, type TestApp } from '../support/test-app';

/** `?as_of=` (docs/audit.md): an incident, a webhook and a delivery as they stood, rebuilt from their own streams. */
describe('time travel', () => {
  let t: TestApp;
  let receiver: Receiver;
  let org: string;
  const token = (answer: { headers: Headers }) => answer.headers.get('towline-consistency')!;
  /** Where each of a stream's events landed in the log (the audit API's records). */
  const positions = async (stream: string): Promise<{ type: string; position: string }[]> =>
    (await t.request('GET', `/api/audit/streams/${stream}`)).body.items;

  beforeAll(async () => {
    t = await startTestApp({ env: RECEIVER_ENV });
    receiver = await startReceiver();
    await t.request('POST', '/api/webhooks', { source: 'travel-edr', secret: 'travel-secret-0001' });
    org = (await t.request('GET', '/api/organisations/default')).body.id;
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('shows an incident before and after a change, by position and by time; before it existed, not at all', async () => {
    const before = new Date(Date.now() - 1000).toISOString();
    const opened = await postWebhook(t.url, 'travel-edr', 'travel-secret-0001', { event_type: 'security_alert', data: { alert_id: 'tt-1', severity: 'high' } });
    expect(opened.status).toBe(202);
    const id = opened.body.incident_id;
    const openToken = (await positions(`incident-${id}`)).at(-1)!.position;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const openedTime = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));

    const acknowledged = await t.request('POST', `/api/incidents/${id}/acknowledge`);
    expect(acknowledged.body.status).toBe('acknowledged');

    const byPosition = await t.request('GET', `/api/incidents/${id}?as_of=${openToken}`);
    expect(byPosition.status).toBe(200);
    expect(byPosition.body).toMatchObject({ id, status: 'open', acknowledged_at: null });
    expect(byPosition.body.timeline.map((e: { type: string }) => e.type)).not.toContain('IncidentAcknowledged');
    expect(byPosition.body.sla.acknowledge.met_at ?? null).toBeNull();

    const byTime = await t.request('GET', `/api/incidents/${opened.body.incident_number}?as_of=${encodeURIComponent(openedTime)}`);
    expect(byTime.body).toMatchObject({ status: 'open' });
    const now = await t.request('GET', `/api/incidents/${id}?as_of=${token(acknowledged)}`);
    expect(now.body).toMatchObject({ status: 'acknowledged' });
    expect(now.body.timeline).toEqual((await t.request('GET', `/api/incidents/${id}`)).body.timeline);

    const tooEarly = await t.request('GET', `/api/incidents/${id}?as_of=${encodeURIComponent(before)}`);
    expect(tooEarly.status).toBe(404);
    for (const bad of ['yesterday', '2026-01-01', '1/2/3', '2026-13-01T00:00:00Z']) {
      const answer = await t.request('GET', `/api/incidents/${id}?as_of=${encodeURIComponent(bad)}`);
      expect(answer.status, bad).toBe(400);
      expect(answer.body.error.details[0].field).toBe('as_of');
    }
  });

  it('shows a webhook with the settings it had, and a delivery with the attempts it had', async () => {
    const created = await t.request('POST', `/api/organisations/${org}/webhooks`, { url: `${receiver.url}/travel`, description: 'first' });
    expect(created.status).toBe(201);
    const hook = created.body;
    const updated = await t.request('PATCH', `/api/organisations/${org}/webhooks/${hook.id}`, { description: 'second' });
    expect(updated.body.description).toBe('second');
    const then = await t.request('GET', `/api/organisations/${org}/webhooks/${hook.id}?as_of=${token(created)}`);
    expect(then.status).toBe(200);
    expect(then.body).toMatchObject({ id: hook.id, description: 'first' });
    expect((await t.request('GET', `/api/organisations/${org}/webhooks/${hook.id}?as_of=${token(updated)}`)).body.description).toBe('second');

    const published = await t.request('POST', `/api/organisations/${org}/events`, {
      event_type: 'finding.created',
      data: { finding_id: 'f-travel', title: 'Travel', severity: 'high', category: 'prompt_injection' },
    });
    expect(published.status, JSON.stringify(published.body)).toBe(201);
    const delivery = await eventually(async () => {
      const items = (await t.request('GET', `/api/organisations/${org}/webhooks/${hook.id}/deliveries`)).body.items;
      return items.find((d: { status: string }) => d.status === 'succeeded');
    }, 10_000, 'the delivery to succeed');
    const detail = (await t.request('GET', `/api/organisations/${org}/deliveries/${delivery.id}`)).body;
    expect(detail.attempt_log).toHaveLength(1);
    // When the event was published, the delivery did not exist yet; once scheduled, it had no attempt yet.
    expect((await t.request('GET', `/api/organisations/${org}/deliveries/${delivery.id}?as_of=${token(published)}`)).status).toBe(404);
    const [scheduled] = await positions(`delivery-${delivery.id}`);
    expect(scheduled.type).toBe('DeliveryScheduled');
    const pending = await t.request('GET', `/api/organisations/${org}/deliveries/${delivery.id}?as_of=${scheduled.position}`);
    expect(pending.status).toBe(200);
    expect(pending.body).toMatchObject({ id: delivery.id, status: 'pending', attempts: 0 });
    expect(pending.body.attempt_log).toEqual([]);
    const current = await t.request('GET', `/api/organisations/${org}/deliveries/${delivery.id}?as_of=${encodeURIComponent(new Date().toISOString())}`);
    expect(current.body).toMatchObject({ id: delivery.id, status: 'succeeded' });
    expect(current.body.attempt_log).toEqual(detail.attempt_log);
  });
});
