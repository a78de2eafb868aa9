import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { nowSeconds, postWebhook, sign, waitForQueue } from '../fixtures/webhooks';
import { startTestApp, type TestApp } from '../support/test-app';

const SECRET = 'your-secret-key';
const alert = (id: string, severity = 'high') => ({
  event_type: 'security_alert',
  timestamp: '2024-01-15T10:00:00Z',
  source: 'email-gateway',
  data: { alert_id: id, severity, details: { sender: 'phisher@malicious.com' } },
});

describe('receiving signed webhooks', () => {
  let t: TestApp;
  let store: EventStore;
  /**
   * Events the receiving path writes (receipts, incident numbers, sources). Consumers downstream (triage,
   * SLA timers, security events) keep appending in the background after an earlier alert: not counted.
   */
  const eventCount = async () => {
    const count = async () => (await store.readAll({ filter: { streamPrefixes: ['alert-', 'incidentNumbers-', 'source-'] } })).length;
    // An alert's outcome (AlertProcessed) is recorded just after its answer: counted once it has landed.
    for (let seen = await count(); ; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const now = await count();
      if (now === seen) return now;
      seen = now;
    }
  };

  beforeAll(async () => {
    t = await startTestApp();
    store = t.app.get<symbol, EventStore>(EVENT_STORE);
    const registered = await t.request('POST', '/api/webhooks', {
      source: 'email-gateway',
      secret: SECRET,
      auto_triage: true,
      playbook: 'phishing_triage',
    });
    expect(registered.status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("accepts a signed alert with the seed's success body", async () => {
    const answer = await postWebhook(t.url, 'email-gateway', SECRET, alert('first-1'));
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({
      status: 'accepted',
      incident_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      incident_number: expect.stringMatching(new RegExp(`^INC-${new Date().getUTCFullYear()}-\\d{4,}$`)),
    });
  });

  it('checks in the contract order, with its codes and messages, and stores nothing for a refusal', async () => {
    const body = JSON.stringify(alert('refused-1'));
    const now = nowSeconds();
    const before = await eventCount();
    const cases: [string, Parameters<typeof postWebhook>, number, string, string][] = [
      // An unknown source wins over a bad timestamp and a bad signature.
      ['unknown source', [t.url, 'unknown', SECRET, body, { timestamp: 1, signature: 'sha256=00' }], 404, 'unknown_source', "Webhook source 'unknown' is not registered"],
      // A bad timestamp wins over a bad signature.
      ['old timestamp', [t.url, 'email-gateway', SECRET, body, { timestamp: now - 301, signature: 'nonsense' }], 401, 'timestamp_expired', 'Webhook timestamp is too old (>5 minutes)'],
      ['old, correctly signed', [t.url, 'email-gateway', SECRET, body, { timestamp: now - 400 }], 401, 'timestamp_expired', 'Webhook timestamp is too old (>5 minutes)'],
      ['future timestamp', [t.url, 'email-gateway', SECRET, body, { timestamp: now + 400 }], 401, 'timestamp_expired', 'Webhook timestamp is too far in the future (>5 minutes)'],
      ['missing timestamp', [t.url, 'email-gateway', SECRET, body, { timestamp: null }], 401, 'timestamp_expired', 'Webhook timestamp is missing or not a Unix time in seconds'],
      ['timestamp not a number', [t.url, 'email-gateway', SECRET, body, { timestamp: 'yesterday' }], 401, 'timestamp_expired', 'Webhook timestamp is missing or not a Unix time in seconds'],
      ['missing signature', [t.url, 'email-gateway', SECRET, body, { signature: null }], 401, 'invalid_signature', 'Webhook signature verification failed'],
      ['another secret', [t.url, 'email-gateway', 'not-the-secret', body], 401, 'invalid_signature', 'Webhook signature verification failed'],
      ['signed other content', [t.url, 'email-gateway', SECRET, body, { signature: sign(SECRET, now, `${body} `), timestamp: now }], 401, 'invalid_signature', 'Webhook signature verification failed'],
      ['signed another timestamp', [t.url, 'email-gateway', SECRET, body, { signature: sign(SECRET, now - 1, body), timestamp: now }], 401, 'invalid_signature', 'Webhook signature verification failed'],
      ['malformed signature header', [t.url, 'email-gateway', SECRET, body, { signature: sign(SECRET, now, body).replace('sha256=', 'sha1=') }], 401, 'invalid_signature', 'Webhook signature verification failed'],
      // Authenticated, and only then parsed.
      ['not JSON', [t.url, 'email-gateway', SECRET, '{"event_type":'], 400, 'invalid_payload', expect.stringContaining('not valid JSON') as unknown as string],
      ['too deep', [t.url, 'email-gateway', SECRET, '['.repeat(65) + ']'.repeat(65)], 400, 'invalid_payload', 'JSON nesting deeper than 64 levels is not accepted'],
      ['__proto__ key', [t.url, 'email-gateway', SECRET, '{"__proto__":{"x":1}}'], 400, 'invalid_payload', 'JSON keys named __proto__ are not accepted'],
      ['empty batch', [t.url, 'email-gateway', SECRET, '[]'], 400, 'invalid_payload', 'Payload contains no alerts'],
      ['empty body', [t.url, 'email-gateway', SECRET, ''], 400, 'invalid_payload', expect.any(String) as unknown as string],
    ];
    for (const [name, args, status, code, message] of cases) {
      const answer = await postWebhook(...args);
      expect(answer, name).toEqual({ status, body: { error: { code, message } } });
    }
    // Refused by Fastify before the route: too large, and not JSON at all.
    const large = await postWebhook(t.url, 'email-gateway', SECRET, JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }));
    expect(large).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    const form = await postWebhook(t.url, 'email-gateway', SECRET, 'a=1', { contentType: 'application/x-www-form-urlencoded' });
    expect(form).toMatchObject({ status: 415, body: { error: { code: 'unsupported_media_type' } } });

    expect(await eventCount()).toBe(before);
  });

  it('processes an exact replay once and answers it with the first answer, whatever openssl spelling it uses', async () => {
    const body = JSON.stringify(alert('replayed-1'));
    const timestamp = nowSeconds();
    const signature = sign(SECRET, timestamp, body);
    const first = await postWebhook(t.url, 'email-gateway', SECRET, body, { timestamp, signature });
    expect(first.status).toBe(202);
    const before = await eventCount();
    const again = await postWebhook(t.url, 'email-gateway', SECRET, body, { timestamp, signature });
    const asOpenssl = await postWebhook(t.url, 'email-gateway', SECRET, body, {
      timestamp,
      signature: signature.replace('sha256=', 'sha256=SHA2-256(stdin)= '),
    });
    expect(again).toEqual(first);
    expect(asOpenssl).toEqual(first);
    expect(await eventCount()).toBe(before);

    const incident = await t.request('GET', `/api/incidents/${first.body.incident_id}`);
    expect(incident.body.alert_count).toBe(1);
    // The same alert sent anew (a new timestamp) is not a replay: it is a repeat, and attaches.
    const repeat = await postWebhook(t.url, 'email-gateway', SECRET, body, { timestamp: timestamp + 1 });
    expect(repeat.body.incident_number).toBe(first.body.incident_number);
    expect((await t.request('GET', `/api/incidents/${first.body.incident_id}`)).body.alert_count).toBe(2);
  });

  it('processes identical requests arriving at once only once, and gives each the same answer', async () => {
    const body = JSON.stringify(alert('concurrent-1'));
    const timestamp = nowSeconds();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => postWebhook(t.url, 'email-gateway', SECRET, body, { timestamp })),
    );
    expect(answers[0]).toMatchObject({ status: 202, body: { status: 'accepted' } });
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    const incident = await t.request('GET', `/api/incidents/${answers[0].body.incident_id}`);
    expect(incident.body.alert_count).toBe(1);
    const received = (await store.readAll()).filter((e) => e.type === 'AlertReceived' && (e.data.alerts as { vendor_alert_id: string }[])[0].vendor_alert_id === 'concurrent-1');
    expect(received).toHaveLength(1);
  });

  it('keeps the body verbatim beside the normalized alerts, and no authentication header anywhere', async () => {
    const body = '{ "event_type" : "security_alert",\n  "data": {"alert_id": "verbatim-1", "severity": "low", "note": "caf\u00e9 \u2713"} }';
    const timestamp = nowSeconds();
    const signature = sign(SECRET, timestamp, body);
    const answer = await postWebhook(t.url, 'email-gateway', SECRET, body, { timestamp, signature });
    expect(answer.status).toBe(202);
    const received = (await store.readAll()).find((e) => e.type === 'AlertReceived' && e.data.body === body);
    expect(received).toBeDefined();
    expect(received!.stream).toMatch(/^alert-[0-9a-f-]{36}$/);
    expect(received!.data).toMatchObject({
      source: 'email-gateway',
      bodyEncoding: 'utf8',
      mode: 'sync',
      alerts: [expect.objectContaining({ vendor: 'generic', vendor_alert_id: 'verbatim-1', severity: 'low' })],
    });
    expect(received!.metadata.actor).toBe('source:email-gateway');

    // Bytes that are not valid UTF-8 (inside a JSON string) are kept exactly too, as base64.
    const binary = Buffer.concat([Buffer.from('{"event_type":"security_alert","data":{"alert_id":"binary-1","note":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]);
    expect((await postWebhook(t.url, 'email-gateway', SECRET, binary)).status).toBe(202);
    const kept = (await store.readAll()).find((e) => e.type === 'AlertReceived' && e.data.bodyEncoding === 'base64');
    expect(Buffer.from(String(kept!.data.body), 'base64').equals(binary)).toBe(true);
    expect(kept!.data.bodySha256).toBe(createHash('sha256').update(binary).digest('hex'));
    const everything = JSON.stringify((await store.readAll()).map((e) => [e.data, e.metadata]));
    expect(everything).not.toContain(signature.slice(7));
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toMatch(/x-webhook-(signature|timestamp)/i);
    // The header's value is not kept with the alert (security events derived from it carry their own time).
    expect(JSON.stringify([received!.data, received!.metadata])).not.toContain(String(timestamp));
  });

  it('answers test events without recording anything or opening an incident', async () => {
    const before = await eventCount();
    const answer = await postWebhook(t.url, 'email-gateway', SECRET, { event_type: 'test', data: {} });
    expect(answer).toEqual({
      status: 202,
      body: { status: 'accepted', incident_id: null, incident_number: null, message: 'Test event verified; test events open no incident' },
    });
    expect(await eventCount()).toBe(before);
    // Still authenticated like any other request.
    expect((await postWebhook(t.url, 'email-gateway', 'wrong-secret', { event_type: 'test', data: {} })).status).toBe(401);
  });

  it('queues webhooks of async sources durably and tells their outcome', async () => {
    await t.request('POST', '/api/webhooks', { source: 'siem', secret: 'siem-secret-1', mode: 'async' });
    const body = JSON.stringify(alert('queued-1', 'critical'));
    const timestamp = nowSeconds();
    const queued = await postWebhook(t.url, 'siem', 'siem-secret-1', body, { timestamp });
    expect(queued).toEqual({
      status: 202,
      body: { status: 'queued', queue_id: expect.stringMatching(/^[0-9a-f-]{36}$/), message: 'Event queued for processing' },
    });
    const entry = await waitForQueue(t, queued.body.queue_id);
    expect(entry).toMatchObject({
      queue_id: queued.body.queue_id,
      source: 'siem',
      status: 'processed',
      result: { status: 'accepted', incident_id: expect.any(String), incident_number: expect.stringMatching(/^INC-/) },
    });
    const incident = await t.request('GET', `/api/incidents/${entry.result.incident_number}`);
    expect(incident.body).toMatchObject({ source: 'siem', severity: 'critical', alert_count: 1 });

    // A replay of a queued request is answered as the first was, with the same queue id.
    expect(await postWebhook(t.url, 'siem', 'siem-secret-1', body, { timestamp })).toEqual(queued);

    // Another organisation cannot see the entry.
    const org = await t.request('POST', '/api/organisations', { name: 'Queue Outsiders' });
    const key = await t.request('POST', `/api/organisations/${org.body.id}/api-keys`, { name: 'r', scopes: ['read'] });
    const foreign = await t.request('GET', `/api/webhooks/queue/${queued.body.queue_id}`, undefined, key.body.key);
    expect(foreign).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect((await t.request('GET', '/api/webhooks/queue/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('counts every answer in Prometheus metrics, with unknown sources under one label', async () => {
    await postWebhook(t.url, 'scanner-guess-12345', SECRET, alert('x'));
    const response = await fetch(`${t.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    expect(value('webhook_received_total{source="email-gateway",status="202"}')).toBeGreaterThanOrEqual(5);
    expect(value('webhook_received_total{source="email-gateway",status="401"}')).toBeGreaterThanOrEqual(9);
    expect(value('webhook_errors_total{source="email-gateway",code="invalid_signature"}')).toBeGreaterThanOrEqual(5);
    expect(value('webhook_errors_total{source="email-gateway",code="timestamp_expired"}')).toBeGreaterThanOrEqual(5);
    expect(value('webhook_errors_total{source="email-gateway",code="invalid_payload"}')).toBeGreaterThanOrEqual(5);
    expect(value('webhook_errors_total{source="email-gateway",code="payload_too_large"}')).toBe(1);
    expect(value('webhook_errors_total{source="unknown",code="unknown_source"}')).toBe(2);
    expect(value('webhook_received_total{source="siem",status="202"}')).toBe(2);
    expect(text).toMatch(/^webhook_request_duration_seconds_count\{source="email-gateway",status="202"\} \d+$/m);
    expect(text).not.toContain('scanner-guess-12345');
  });

  it('logs one structured record per webhook for GET /api/logs, without secrets or signatures', async () => {
    const timestamp = nowSeconds();
    const body = JSON.stringify(alert('logged-1'));
    const signature = sign(SECRET, timestamp, body);
    const accepted = await postWebhook(t.url, 'email-gateway', SECRET, body, { timestamp, signature });
    await postWebhook(t.url, 'email-gateway', 'wrong-secret', body);

    const logs = await t.request('GET', '/api/logs?filter=webhook&tail=100');
    expect(logs.status).toBe(200);
    const records = (logs.body as Record<string, unknown>[]).filter((r) => r.component === 'webhook');
    expect(records.at(-2)).toMatchObject({
      source: 'email-gateway',
      status: 202,
      outcome: 'accepted',
      incident_number: accepted.body.incident_number,
      request_id: expect.any(String),
    });
    expect(records.at(-1)).toMatchObject({ source: 'email-gateway', status: 401, code: 'invalid_signature' });
    expect(records.some((r) => r.code === 'unknown_source' && r.source === 'unknown')).toBe(true);
    const all = JSON.stringify((await t.request('GET', '/api/logs?tail=1000')).body);
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(signature.slice(7));

    expect((await t.request('GET', '/api/logs?tail=2')).body).toHaveLength(2);
    expect((await t.request('GET', '/api/logs?tail=5000')).status).toBe(400);
    const key = await t.request('POST', '/api/organisations/default/api-keys', { name: 'org-admin', scopes: ['admin'] });
    expect((await t.request('GET', '/api/logs', undefined, key.body.key)).status).toBe(403);
  });
});

describe('a saturated synchronous path', () => {
  let t: TestApp;
  beforeAll(async () => {
    // 0: no request may be processed synchronously, so every one is queued.
    t = await startTestApp({ env: { TW_WEBHOOK_SYNC_LIMIT: '0' } });
    await t.request('POST', '/api/webhooks', { source: 'edr', secret: 'edr-secret-1' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('queues instead of making the sender wait, and the worker still processes it', async () => {
    const queued = await postWebhook(t.url, 'edr', 'edr-secret-1', alert('busy-1'));
    expect(queued.body).toMatchObject({ status: 'queued', message: 'Event queued for processing' });
    const entry = await waitForQueue(t, queued.body.queue_id);
    expect(entry.result).toMatchObject({ status: 'accepted', incident_number: expect.stringMatching(/^INC-\d{4}-0001$/) });
  });
});
