import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, RECEIVER_ENV, startReceiver, type Receiver, type Reply } from '../support/receiver';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';

const finding = (i: number, severity = 'high') => ({
  event_type: 'finding.created',
  data: { finding_id: `f-${i}`, title: `Finding ${i}`, severity, category: 'prompt_injection', owasp_category: 'LLM01' },
});

/**
 * Pacing, back-pressure, severity filters, visibility (metrics, operator notices) and idempotency, as a user
 * meets them: real receivers on loopback, the whole application, its /metrics.
 */
describe('outbound pacing, back-pressure and visibility', () => {
  let t: TestApp;
  const receivers: Receiver[] = [];

  async function receiver(respond?: (request: any) => Reply | Promise<Reply>): Promise<Receiver> {
    const r = await startReceiver(respond);
    receivers.push(r);
    return r;
  }
  async function organisation(name: string): Promise<string> {
    return (await t.request('POST', '/api/organisations', { name })).body.id;
  }
  async function webhook(org: string, body: Record<string, unknown>) {
    const created = await t.request('POST', `/api/organisations/${org}/webhooks`, body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  }
  const publish = async (org: string, event: Record<string, unknown>) => {
    const published = await t.request('POST', `/api/organisations/${org}/events`, event);
    expect(published.status, JSON.stringify(published.body)).toBe(201);
    return published.body;
  };
  const deliveries = async (org: string, webhookId: string) => (await t.request('GET', `/api/organisations/${org}/webhooks/${webhookId}/deliveries`)).body.items;
  const post = (path: string, body: unknown, headers: Record<string, string>) =>
    fetch(t.url + path, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  beforeAll(async () => {
    t = await startTestApp({ env: { ...RECEIVER_ENV, TW_DELIVERY_BREAKER_THRESHOLD: '3', TW_DELIVERY_RETRY_AFTER_MAX: '10s' } });
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it('paces a Slack webhook at one message a second by default, so a burst never meets its rate limit', async () => {
    const org = await organisation('Chat');
    // Limited like Slack: one message a second, 429 with Retry-After: 1 beyond that.
    let last = 0;
    const slack = await receiver(() => {
      const now = Date.now();
      if (now - last < 900) return { status: 429, headers: { 'retry-after': '1' }, body: 'rate_limited' };
      last = now;
      return { status: 200, body: 'ok' };
    });
    const hook = await webhook(org, { url: slack.url, format: 'slack' });
    expect(hook).toMatchObject({ rate_limit: { limit: 1, period: 'second' }, min_severity: 'high' });
    const started = Date.now();
    // Five at once; a medium one is left out by the chat default (high and above).
    await Promise.all([0, 1, 2, 3, 4].map((i) => publish(org, finding(i))));
    await publish(org, finding(5, 'medium'));
    await eventually(async () => (await deliveries(org, hook.id)).filter((d: any) => d.status === 'succeeded').length === 5, 15_000, 'five delivered');
    const accepted = slack.requests.map((r) => r.at);
    // Paced: the five went out about a second apart, so the receiver never had to refuse one.
    expect(slack.requests).toHaveLength(5);
    expect(accepted[4] - accepted[0]).toBeGreaterThanOrEqual(3_600);
    expect(Date.now() - started).toBeLessThan(12_000);
    expect((await deliveries(org, hook.id)).length).toBe(5);
  });

  it('waits out Retry-After without using up retries or opening the circuit', async () => {
    const org = await organisation('Pushback');
    // Six refusals in a row: more than the 3 retries and the circuit's threshold of 3.
    const r = await receiver((request) => (request.index < 6 ? { status: 429, headers: { 'retry-after': '0' } } : { status: 200 }));
    const hook = await webhook(org, { url: r.url, rate_limit: null });
    expect(hook.rate_limit).toBeNull();
    await publish(org, finding(1));
    const delivered = await eventually(async () => (await deliveries(org, hook.id)).find((d: any) => d.status === 'succeeded'), 20_000, 'delivered');
    expect(delivered.attempts).toBe(7);
    const health = (await t.request('GET', `/api/organisations/${org}/webhooks/${hook.id}`)).body.health;
    expect(health).toMatchObject({ consecutive_failures: 0, circuit: { state: 'closed' } });
    const detail = (await t.request('GET', `/api/organisations/${org}/deliveries/${delivered.id}`)).body;
    expect(detail.attempt_log.filter((a: any) => a.error_class === 'rate_limited')).toHaveLength(6);
  });

  it('filters by min_severity, and takes every severity when it is null', async () => {
    const org = await organisation('Severity');
    const r = await receiver();
    const all = await webhook(org, { url: r.url, format: 'teams', min_severity: null, rate_limit: null });
    const criticalOnly = await webhook(org, { url: `${r.url}/critical`, min_severity: 'critical' });
    expect(all.min_severity).toBeNull();
    await publish(org, finding(1, 'low'));
    await publish(org, finding(2, 'critical'));
    await r.waitFor(3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await deliveries(org, all.id)).length).toBe(2);
    expect((await deliveries(org, criticalOnly.id)).map((d: any) => d.event_type)).toEqual(['finding.created']);
    const patched = await t.request('PATCH', `/api/organisations/${org}/webhooks/${criticalOnly.id}`, { min_severity: 'low', rate_limit: { limit: 30, period: 'minute' } });
    expect(patched.body).toMatchObject({ min_severity: 'low', rate_limit: { limit: 30, period: 'minute' } });
    const refused = await t.request('PATCH', `/api/organisations/${org}/webhooks/${criticalOnly.id}`, { rate_limit: { limit: 0, period: 'hour' } });
    expect(refused.status).toBe(400);
  });

  it('counts attempts and dead letters in /metrics, and sends operator notices only to subscribers, never about themselves', async () => {
    const org = await organisation('Notices');
    const operator = await receiver();
    // The operator's webhook subscribes to the notices; the failing one to findings and notices alike.
    const watcher = await webhook(org, { url: operator.url, event_types: ['message.attempt.exhausted', 'endpoint.disabled'] });
    const failingReceiver = await receiver(() => ({ status: 400, body: 'bad request' }));
    const failing = await webhook(org, { url: failingReceiver.url, event_types: ['finding.created', 'message.attempt.exhausted'] });
    const plain = await receiver();
    await webhook(org, { url: plain.url });

    const event = await publish(org, finding(1));
    const [notice] = await operator.waitFor(1, 10_000);
    expect(notice.json()).toMatchObject({
      event_type: 'message.attempt.exhausted',
      organisation_id: org,
      data: { webhook_id: failing.id, event_id: event.id, event_type: 'finding.created', reason: 'not_retryable', attempts: 1 },
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The failing webhook got its finding only, no notice about its own failure; a webhook without event_types gets no notices.
    expect(failingReceiver.requests.map((q) => q.json().event_type)).toEqual(['finding.created']);
    expect(plain.requests.map((q) => q.json().event_type)).toEqual(['finding.created']);
    expect(operator.requests).toHaveLength(1);

    // Nobody can publish a notice through the API.
    const forged = await t.request('POST', `/api/organisations/${org}/events`, { event_type: 'endpoint.disabled', data: { webhook_id: watcher.id, reason: 'gone' } });
    expect(forged).toMatchObject({ status: 400, body: { error: { code: 'invalid_event' } } });

    const metrics = await (await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
    expect(metrics).toMatch(/outbound_attempts_total\{outcome="failed",status_class="4xx"\} [1-9]/);
    expect(metrics).toMatch(/outbound_attempts_total\{outcome="succeeded",status_class="2xx"\} [1-9]/);
    expect(metrics).toMatch(/outbound_dead_letters_total\{reason="not_retryable"\} [1-9]/);
    expect(metrics).toContain('outbound_attempt_duration_seconds_bucket');
    expect(metrics).toMatch(new RegExp(`outbound_circuit_state\\{webhook_id="${failing.id}"\\} 0`));
    expect(metrics).toContain('# TYPE outbound_backlog gauge');
  });

  it('answers a repeated Idempotency-Key with the first answer, once, and refuses the key with another body', async () => {
    const org = await organisation('Idempotent');
    const path = `/api/organisations/${org}/events`;
    const first = await post(path, finding(1), { 'idempotency-key': 'publish-1' });
    const again = await post(path, finding(1), { 'idempotency-key': 'publish-1' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as { id: string }).id).toBe(((await first.json()) as { id: string }).id);
    const other = await post(path, finding(2), { 'idempotency-key': 'publish-1' });
    expect(other.status).toBe(422);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('idempotency_key_reused');
    expect((await t.request('GET', path)).body.items).toHaveLength(1);

    // A created webhook's generated secret is shown the first time only.
    const r = await receiver();
    const created = await post(`/api/organisations/${org}/webhooks`, { url: r.url }, { 'idempotency-key': 'hook-1' });
    const repeated = await post(`/api/organisations/${org}/webhooks`, { url: r.url }, { 'idempotency-key': 'hook-1' });
    const [a, b] = [(await created.json()) as { id: string; secret?: string }, (await repeated.json()) as { id: string; secret?: string }];
    expect(a.secret).toMatch(/^whsec_/);
    expect(b.id).toBe(a.id);
    expect(b.secret).toBeUndefined();
    expect((await t.request('GET', `/api/organisations/${org}/webhooks`)).body).toHaveLength(1);
    const bad = await post(path, finding(3), { 'idempotency-key': 'x'.repeat(256) });
    expect(bad.status).toBe(400);
  });

  it('takes since as a unix-seconds number on /recover', async () => {
    const org = await organisation('Recover');
    const r = await receiver((request) => ({ status: request.index === 0 ? 400 : 200 }));
    const hook = await webhook(org, { url: r.url });
    const since = Math.floor(Date.now() / 1000) - 1;
    await publish(org, finding(1));
    await eventually(async () => (await deliveries(org, hook.id))[0]?.status === 'failed', 10_000, 'dead letter');
    const recovered = await t.request('POST', `/api/organisations/${org}/webhooks/${hook.id}/recover`, { since });
    expect(recovered.status, JSON.stringify(recovered.body)).toBe(202);
    expect(recovered.body.delivery_ids).toHaveLength(1);
    await r.waitFor(2);
  });

  it('disables a webhook that has failed continuously for TW_WEBHOOK_AUTO_DISABLE, and notices its subscribers', async () => {
    const own = await startTestApp({ env: { ...RECEIVER_ENV, TW_WEBHOOK_AUTO_DISABLE: '1s', TW_DELIVERY_BREAKER_THRESHOLD: '100' } });
    try {
      const down = await receiver(() => ({ status: 500 }));
      const operator = await receiver();
      const org = (await own.request('POST', '/api/organisations', { name: 'Failing' })).body.id;
      const watcher = await own.request('POST', `/api/organisations/${org}/webhooks`, { url: operator.url, event_types: ['endpoint.disabled'] });
      const failing = (await own.request('POST', `/api/organisations/${org}/webhooks`, { url: down.url, event_types: ['finding.created'] })).body;
      expect(watcher.status).toBe(201);
      // Retries 200, 400 and 800 ms apart: failing without a success for more than a second.
      await own.request('POST', `/api/organisations/${org}/events`, finding(1));
      const disabled = await eventually(async () => {
        const hook = (await own.request('GET', `/api/organisations/${org}/webhooks/${failing.id}`)).body;
        return !hook.enabled && hook;
      }, 10_000, 'the failing webhook to be disabled');
      expect(disabled.disabled_reason).toBe('failing');
      const [notice] = await operator.waitFor(1, 10_000);
      expect(notice.json()).toMatchObject({ event_type: 'endpoint.disabled', severity: 'high', data: { webhook_id: failing.id, reason: 'failing' } });
    } finally {
      await own.close();
    }
  });
});
