import { Webhook } from 'standardwebhooks';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, pythonVerify, RECEIVER_ENV, startReceiver, type Receiver, type Reply } from '../support/receiver';
import { startTestApp, type TestApp } from '../support/test-app';

const finding = (title = 'Prompt Injection via System Override') => ({
  event_type: 'finding.created',
  data: { finding_id: 'f-1', title, severity: 'critical', category: 'prompt_injection', owasp_category: 'LLM01' },
});

describe('outbound delivery', () => {
  let t: TestApp;
  let org: string;
  const receivers: Receiver[] = [];

  async function receiver(respond?: (request: any) => Reply | Promise<Reply>): Promise<Receiver> {
    const r = await startReceiver(respond);
    receivers.push(r);
    return r;
  }

  async function webhook(body: Record<string, unknown>) {
    const created = await t.request('POST', `/api/organisations/${org}/webhooks`, body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  }

  const publish = async (event: Record<string, unknown>) => {
    const published = await t.request('POST', `/api/organisations/${org}/events`, event);
    expect(published.status, JSON.stringify(published.body)).toBe(201);
    return published.body;
  };

  const deliveries = async (webhookId: string) => (await t.request('GET', `/api/organisations/${org}/webhooks/${webhookId}/deliveries`)).body.items;

  beforeAll(async () => {
    // The circuit breaker has its own test (outbound-endpoints); here it would only make failures wait.
    t = await startTestApp({ env: { ...RECEIVER_ENV, TW_DELIVERY_BREAKER_THRESHOLD: '100' } });
    org = (await t.request('POST', '/api/organisations', { name: 'Delivery' })).body.id;
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it("delivers a published event signed so that the seed's verify() and Standard Webhooks both accept it", async () => {
    const r = await receiver();
    const hook = await webhook({ url: `${r.url}/hooks` });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const event = await publish(finding());

    const [request] = await r.waitFor(1);
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/hooks');
    expect(request.headers['content-type']).toBe('application/json');
    // The envelope exactly as the seed shows it, field order included, plus id.
    expect(Object.keys(request.json())).toEqual([
      'id', 'event_type', 'organisation_id', 'project_id', 'timestamp', 'severity', 'title', 'description', 'category', 'owasp_category', 'data',
    ]);
    expect(request.json()).toEqual(event);
    expect(event).toMatchObject({
      event_type: 'finding.created',
      organisation_id: org,
      project_id: null,
      severity: 'critical',
      title: 'New critical finding: Prompt Injection via System Override',
      description: 'New critical finding: Prompt Injection via System Override [LLM01]',
      category: 'prompt_injection',
      owasp_category: 'LLM01',
    });
    expect(Math.abs(event.timestamp - Date.now() / 1000)).toBeLessThan(10);

    const signature = request.headers['x-towline-signature'];
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(pythonVerify(request.body, hook.secret, signature)).toBe(true);
    expect(pythonVerify(request.body, hook.secret, signature.replace(/.$/, (c: string) => (c === '0' ? '1' : '0')))).toBe(false);
    expect(new Webhook(hook.secret).verify(request.body.toString('utf8'), request.headers)).toEqual(event);

    const [delivery] = await deliveries(hook.id);
    expect(request.headers['x-towline-delivery']).toBe(delivery.id);
    expect(request.headers['webhook-id']).toBe(delivery.id);
    expect(request.headers['x-towline-event']).toBe('finding.created');
    expect(request.headers['x-towline-timestamp']).toBe(request.headers['webhook-timestamp']);
    await eventually(async () => (await deliveries(hook.id))[0].status === 'succeeded', 5_000, 'the delivery to be recorded');
    const detail = (await t.request('GET', `/api/organisations/${org}/deliveries/${delivery.id}`)).body;
    expect(detail).toMatchObject({ status: 'succeeded', attempts: 1, last_status_code: 200, event_id: event.id });
    expect(detail.attempt_log[0]).toMatchObject({ succeeded: true, response: { status: 200, body: '{"ok":true}' }, error_class: null });
    expect(detail.attempt_log[0].request_digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    // The log first, then the delivery, every step an event; the secret in none of them.
    const store = t.app.get<symbol, EventStore>(EVENT_STORE);
    const log = await store.readStream(`securityEvent-${org}`);
    expect(log.map((e) => [e.type, e.id])).toEqual([['SecurityEventRecorded', event.id]]);
    const steps = await store.readStream(`delivery-${delivery.id}`);
    expect(steps.map((e) => [e.type, e.metadata.actor])).toEqual([
      ['DeliveryScheduled', 'system:outbound.delivery-planner'],
      ['DeliveryAttempted', 'system:delivery-worker'],
      ['DeliverySucceeded', 'system:delivery-worker'],
    ]);
    expect(steps[0].position.commit).toBeGreaterThan(log[0].position.commit);
    const everything = JSON.stringify((await store.readAll()).map((e) => [e.data, e.metadata]));
    expect(everything).not.toContain(hook.secret.slice(6));
  });

  it('filters by event type and by project', async () => {
    const p1 = (await t.request('POST', `/api/organisations/${org}/projects`, { name: 'p1' })).body.id;
    const p2 = (await t.request('POST', `/api/organisations/${org}/projects`, { name: 'p2' })).body.id;
    const byType = await receiver();
    const byProject = await receiver();
    await webhook({ url: byType.url, event_types: ['ascam.paused', 'quality.degraded'] });
    await webhook({ url: byProject.url, project_ids: [p1] });

    await publish({ ...finding('for p2'), project_id: p2 });
    await publish({ event_type: 'quality.degraded', project_id: p1, data: { metric: 'faithfulness', score: 0.5, threshold: 0.8 } });
    await publish({ ...finding('no project') });
    await publish({ ...finding('for p1'), project_id: p1 });

    await byType.waitFor(1);
    await byProject.waitFor(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(byType.requests.map((r) => r.json().event_type)).toEqual(['quality.degraded']);
    expect(byProject.requests.map((r) => r.json().event_type).sort()).toEqual(['finding.created', 'quality.degraded']);
    expect(byProject.requests.every((r) => r.json().project_id === p1)).toBe(true);
  });

  it('retries a failing receiver with backoff and delivers on the third attempt, with the same delivery id', async () => {
    const r = await receiver((request) => ({ status: request.index < 2 ? 503 : 200 }));
    const hook = await webhook({ url: r.url, event_types: ['finding.acknowledged'] });
    await publish({ event_type: 'finding.acknowledged', data: { finding_id: 'f-9' } });
    const requests = await r.waitFor(3);
    const gaps = [requests[1].at - requests[0].at, requests[2].at - requests[1].at];
    // The schedule is 200ms, 400ms, 800ms without jitter: each wait at least its step, the second longer.
    expect(gaps[0]).toBeGreaterThanOrEqual(190);
    expect(gaps[1]).toBeGreaterThanOrEqual(390);
    expect(gaps[1]).toBeGreaterThan(gaps[0]);
    expect(new Set(requests.map((q) => q.headers['x-towline-delivery'])).size).toBe(1);
    // Each attempt is signed afresh for its own timestamp.
    for (const q of requests) expect(pythonVerify(q.body, hook.secret, q.headers['x-towline-signature'])).toBe(true);

    const delivery = await eventually(async () => (await deliveries(hook.id)).find((d: any) => d.status === 'succeeded'), 5_000, 'success');
    expect(delivery).toMatchObject({ attempts: 3, last_status_code: 200, next_attempt_at: null });
    const detail = (await t.request('GET', `/api/organisations/${org}/deliveries/${delivery.id}`)).body;
    expect(detail.attempt_log.map((a: any) => [a.response.status, a.error_class])).toEqual([
      [503, 'server_error'],
      [503, 'server_error'],
      [200, null],
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(r.requests).toHaveLength(3);
  });

  it('dead-letters a delivery after 3 retries, then redelivers it and recovers in bulk, keeping its id', async () => {
    let healthy = false;
    const r = await receiver(() => ({ status: healthy ? 200 : 500, body: 'x'.repeat(10_000) }));
    const hook = await webhook({ url: r.url, event_types: ['finding.assigned'] });
    const since = new Date().toISOString();
    await publish({ event_type: 'finding.assigned', data: { finding_id: 'f-1', assignee: 'alice' } });
    await publish({ event_type: 'finding.assigned', data: { finding_id: 'f-2', assignee: 'bob' } });
    await r.waitFor(8, 10_000);
    const failed = await eventually(
      async () => {
        const items = await deliveries(hook.id);
        return items.length === 2 && items.every((d: any) => d.status === 'failed') && items;
      },
      5_000,
      'two dead letters',
    );
    expect(failed[0]).toMatchObject({ attempts: 4, failure_reason: 'retries_exhausted', last_status_code: 500, last_error: 'server_error' });
    const detail = (await t.request('GET', `/api/organisations/${org}/deliveries/${failed[0].id}`)).body;
    expect(detail.attempt_log).toHaveLength(4);
    expect(detail.attempt_log[0].response.body).toHaveLength(4096);
    expect(detail.attempt_log[0].response.body_truncated).toBe(true);

    const webhookView = (await t.request('GET', `/api/organisations/${org}/webhooks/${hook.id}`)).body;
    expect(webhookView.health).toMatchObject({ attempts: 8, successes: 0, success_rate: 0, consecutive_failures: 8, last_success_at: null });

    healthy = true;
    const again = await t.request('POST', `/api/organisations/${org}/deliveries/${failed[0].id}/redeliver`);
    expect(again).toMatchObject({ status: 202, body: { id: failed[0].id, status: 'pending' } });
    const [, ninth] = await r.waitFor(9).then((all) => [all, all[8]] as const);
    expect(ninth.headers['x-towline-delivery']).toBe(failed[0].id);
    const redelivered = await eventually(async () => {
      const d = (await t.request('GET', `/api/organisations/${org}/deliveries/${failed[0].id}`)).body;
      return d.status === 'succeeded' && d;
    });
    expect(redelivered).toMatchObject({ attempts: 5, failure_reason: null, last_status_code: 200 });

    const recovered = await t.request('POST', `/api/organisations/${org}/webhooks/${hook.id}/recover`, { since });
    expect(recovered).toMatchObject({ status: 202, body: { delivery_ids: [failed[1].id] } });
    const [, , tenth] = await r.waitFor(10).then((all) => [all, all, all[9]] as const);
    expect(tenth.headers['x-towline-delivery']).toBe(failed[1].id);
    await eventually(async () => (await deliveries(hook.id)).every((d: any) => d.status === 'succeeded'), 5_000, 'both delivered');
    const health = (await t.request('GET', `/api/organisations/${org}/webhooks/${hook.id}`)).body.health;
    expect(health).toMatchObject({ attempts: 10, successes: 2, success_rate: 0.2, consecutive_failures: 0 });
    expect(health.last_success_at).not.toBeNull();
  });

  it('disables a webhook that answers 410 Gone, and delivers nothing more to it', async () => {
    const r = await receiver(() => ({ status: 410 }));
    const hook = await webhook({ url: r.url, event_types: ['finding.resolution_failed'] });
    await publish({ event_type: 'finding.resolution_failed', data: { finding_id: 'f-3' } });
    await r.waitFor(1);
    const disabled = await eventually(async () => {
      const view = (await t.request('GET', `/api/organisations/${org}/webhooks/${hook.id}`)).body;
      return !view.enabled && view;
    });
    expect(disabled).toMatchObject({ enabled: false, disabled_reason: 'gone' });
    expect((await deliveries(hook.id))[0]).toMatchObject({ status: 'failed', failure_reason: 'not_retryable', last_status_code: 410, attempts: 1 });
    await publish({ event_type: 'finding.resolution_failed', data: { finding_id: 'f-4' } });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(r.requests).toHaveLength(1);
    const enabled = await t.request('PATCH', `/api/organisations/${org}/webhooks/${hook.id}`, { enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null });
  });

  it('never follows a redirect: a 3xx is a failed attempt', async () => {
    const target = await receiver();
    const r = await receiver(() => ({ status: 307, headers: { location: `${target.url}/elsewhere` } }));
    const hook = await webhook({ url: r.url, event_types: ['finding.resolution_verified'] });
    await publish({ event_type: 'finding.resolution_verified', data: { finding_id: 'f-5' } });
    await r.waitFor(1);
    const [delivery] = await eventually(async () => {
      const items = await deliveries(hook.id);
      return items[0]?.status === 'failed' && items;
    });
    expect(delivery).toMatchObject({ last_status_code: 307, last_error: 'redirect', failure_reason: 'not_retryable' });
    const detail = (await t.request('GET', `/api/organisations/${org}/deliveries/${delivery.id}`)).body;
    expect(detail.attempt_log[0].response.headers.location).toBe(`${target.url}/elsewhere`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(target.requests).toHaveLength(0);
  });

  it('sends a signed test event on request and returns what the receiver answered', async () => {
    const r = await receiver(() => ({ status: 202, body: '{"received":true}', headers: { 'x-request-id': 'abc' } }));
    const hook = await webhook({ url: r.url, event_types: ['ascam.paused'] });
    const test = await t.request('POST', `/api/organisations/${org}/webhooks/${hook.id}/test`, { event_type: 'drift.detected' });
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({
      event_type: 'drift.detected',
      result: { succeeded: true, response: { status: 202, body: '{"received":true}', headers: { 'x-request-id': 'abc' } }, error_class: null },
    });
    const [request] = r.requests;
    expect(request.headers['x-towline-test']).toBe('true');
    expect(request.headers['x-towline-delivery']).toBe(test.body.test_id);
    expect(request.json()).toMatchObject({ event_type: 'drift.detected', data: { metric: 'alert_volume' } });
    expect(pythonVerify(request.body, hook.secret, request.headers['x-towline-signature'])).toBe(true);
    // A test is not a delivery.
    expect(await deliveries(hook.id)).toEqual([]);
  });

  it("keeps a receiver on the seed's verify() working through a rotation that follows the documented procedure", async () => {
    // The receiver is configured with a plain shared string, as the seed's receivers are.
    const [oldSecret, newSecret] = ['receiver-shared-secret-one', 'receiver-shared-secret-two'];
    const r = await receiver();
    const hook = await webhook({ url: r.url, secret: oldSecret, event_types: ['campaign.completed'] });
    expect(hook.secret).toBeUndefined();
    const rotated = await t.request('POST', `/api/organisations/${org}/webhooks/${hook.id}/rotate-secret`, { secret: newSecret, grace_period_seconds: 3 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secrets).toHaveLength(2);
    // The procedure: from the rotation until the grace period ends, the receiver accepts either secret.
    const receiverAccepts = (body: Buffer, header: string) => [oldSecret, newSecret].some((secret) => pythonVerify(body, secret, header));

    await publish({ event_type: 'campaign.completed', data: { campaign_id: 'c-1' } });
    const [during] = await r.waitFor(1);
    // The seed header stays on the secret every receiver already holds: one not yet told of the rotation keeps working.
    expect(pythonVerify(during.body, oldSecret, during.headers['x-towline-signature'])).toBe(true);
    expect(receiverAccepts(during.body, during.headers['x-towline-signature'])).toBe(true);
    expect(during.headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [oldSecret, newSecret]) {
      // A shared-string secret keys Standard Webhooks by its UTF-8 bytes.
      expect(new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' }).verify(during.body.toString('utf8'), during.headers)).toBeTruthy();
    }

    // Once the grace period is over the new secret signs alone, and the receiver drops the old one.
    await new Promise((resolve) => setTimeout(resolve, 3_200));
    await publish({ event_type: 'campaign.completed', data: { campaign_id: 'c-2' } });
    const [, after] = await r.waitFor(2);
    expect(after.headers['webhook-signature'].split(' ')).toHaveLength(1);
    expect(pythonVerify(after.body, newSecret, after.headers['x-towline-signature'])).toBe(true);
    expect(pythonVerify(after.body, oldSecret, after.headers['x-towline-signature'])).toBe(false);
    expect(receiverAccepts(after.body, after.headers['x-towline-signature'])).toBe(true);

    // A rotation with no grace period retires the old secrets at once; a generated secret is whsec_.
    const now = await t.request('POST', `/api/organisations/${org}/webhooks/${hook.id}/rotate-secret`, { grace_period_seconds: 0 });
    expect(now.body.secret).toMatch(/^whsec_/);
    expect(now.body.secrets).toHaveLength(1);
    await publish({ event_type: 'campaign.completed', data: { campaign_id: 'c-3' } });
    const [, , third] = await r.waitFor(3);
    expect(pythonVerify(third.body, now.body.secret, third.headers['x-towline-signature'])).toBe(true);
    expect(new Webhook(now.body.secret).verify(third.body.toString('utf8'), third.headers)).toBeTruthy();
  });

  it('refuses a secret that is neither a Standard Webhooks secret nor a shared string of at least 16 characters', async () => {
    const r = await receiver();
    for (const secret of ['too-short-secret'.slice(0, 15), 'whsec_not-base64!!!!!!', ' padded shared secret ']) {
      const refused = await t.request('POST', `/api/organisations/${org}/webhooks`, { url: r.url, secret });
      expect(refused.status, secret).toBe(400);
    }
  });

  it('keeps a URL that is a credential out of the answers and the events, and still delivers to it in full', async () => {
    // Its own organisation: no other test's webhook sees its events, and its stream holds only this webhook.
    const slackOrg = (await t.request('POST', '/api/organisations', { name: 'Slack-style' })).body.id;
    const hooks = `/api/organisations/${slackOrg}/webhooks`;
    const r = await receiver();
    const secretSegment = 'XXXXsecretXXXX';
    const full = `${r.url}/services/T000/B000/${secretSegment}?token=abc`;
    const shown = `${r.url}/services/T000/B000/[redacted]?token=[redacted]`;
    const leaks = (text: string) => text.includes(secretSegment) || /token=(?!\[redacted\])/.test(text);

    const created = await t.request('POST', hooks, { url: full });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.url).toBe(shown);
    const { id } = created.body;

    // A PATCH without a URL keeps it; the same URL given again changes nothing at all.
    const store = t.app.get<symbol, EventStore>(EVENT_STORE);
    const patched = await t.request('PATCH', `${hooks}/${id}`, { description: 'ops channel' });
    expect(patched.body).toMatchObject({ url: shown, description: 'ops channel' });
    const revisions = (await store.readStream(`webhooks-${slackOrg}`)).length;
    const same = await t.request('PATCH', `${hooks}/${id}`, { url: full });
    expect(same.body.url).toBe(shown);
    expect(await store.readStream(`webhooks-${slackOrg}`)).toHaveLength(revisions);

    const listed = await t.request('GET', hooks);
    const got = await t.request('GET', `${hooks}/${id}`);
    expect(listed.body.map((w: any) => w.url)).toEqual([shown]);
    expect(got.body.url).toBe(shown);
    for (const answer of [created, patched, same, listed, got]) expect(leaks(JSON.stringify(answer.body)), JSON.stringify(answer.body)).toBe(false);

    // Deliveries and test sends open the sealed URL: the receiver sees the full path and query.
    const published = await t.request('POST', `/api/organisations/${slackOrg}/events`, finding('to a Slack-style URL'));
    expect(published.status).toBe(201);
    const [delivered] = await r.waitFor(1);
    expect(delivered.path).toBe(`/services/T000/B000/${secretSegment}?token=abc`);
    const tested = await t.request('POST', `${hooks}/${id}/test`, {});
    expect(tested.body.result).toMatchObject({ succeeded: true });
    expect(r.requests[1].path).toBe(delivered.path);
    await eventually(async () => (await t.request('GET', `${hooks}/${id}/deliveries`)).body.items[0]?.status === 'succeeded', 5_000, 'the delivery');

    // In the events the URL exists only sealed, beside its display form.
    const events = await store.readAll();
    expect(leaks(JSON.stringify(events.map((e) => [e.data, e.metadata])))).toBe(false);
    const [creation] = await store.readStream(`webhooks-${slackOrg}`);
    expect(creation.data.settings).toMatchObject({ displayUrl: shown, sealedUrl: expect.stringMatching(/^v1\./) });
  });
});
