import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { postWebhook } from '../fixtures/webhooks';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';

const SECRET = 'hardening-secret-1';
const alert = (id: string, data: Record<string, unknown> = {}) => ({
  event_type: 'security_alert',
  timestamp: '2024-01-15T10:00:00Z',
  data: { alert_id: id, severity: 'high', ...data },
});

/** Every event in the store, once background consumers have settled. */
async function settledEventCount(store: EventStore): Promise<number> {
  for (let seen = (await store.readAll()).length; ; ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = (await store.readAll()).length;
    if (now === seen) return now;
    seen = now;
  }
}

describe('input that cannot be stored is refused, and never costs a legitimate alert', () => {
  let t: TestApp;
  let store: EventStore;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { TW_WEBHOOK_MAX_ALERTS: '3' } });
    store = t.app.get<symbol, EventStore>(EVENT_STORE);
    expect((await t.request('POST', '/api/webhooks', { source: 'edge', secret: SECRET })).status).toBe(201);
    org = (await t.request('POST', '/api/organisations', { name: 'Hardening' })).body.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('accepts a long title with an emoji, a flag or a family at every cut point, and cuts it whole', async () => {
    for (const [i, glyph] of ['😀', '🇫🇷', '👨‍👩‍👧‍👦'].entries()) {
      for (const pad of [250, 251, 252, 253, 254, 255, 256]) {
        const title = 'a'.repeat(pad) + glyph.repeat(10);
        const answer = await postWebhook(t.url, 'edge', SECRET, alert(`cut-${i}-${pad}`, { title }));
        expect(answer.status, `${glyph} after ${pad}`).toBe(202);
        const incident = await t.request('GET', `/api/incidents/${answer.body.incident_id}`);
        const stored: string = incident.body.title;
        expect(stored.length).toBeLessThanOrEqual(256);
        expect(Buffer.from(stored, 'utf8').toString('utf8')).toBe(stored);
        expect(stored.endsWith('…')).toBe(true);
        expect(title.startsWith(stored.slice(0, -1))).toBe(true);
      }
    }
  });

  it('refuses an unpaired surrogate anywhere in an alert with 400 invalid_payload, storing nothing', async () => {
    const before = await settledEventCount(store);
    for (const data of [{ title: 'x\ud800' }, { details: { ['k\udfff']: 'v' } }, { host: '\udc00' }]) {
      const answer = await postWebhook(t.url, 'edge', SECRET, alert('lone', data));
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('invalid_payload');
      expect(answer.body.error.message).toMatch(/unpaired surrogate/);
    }
    expect(await settledEventCount(store)).toBe(before);
  });

  it('refuses an unpaired surrogate in API bodies with 400 invalid_request: an event, a webhook, a pause reason', async () => {
    const project = (await t.request('POST', `/api/organisations/${org}/projects`, { name: 'p' })).body.id;
    const before = await settledEventCount(store);
    const refused = [
      await t.request('POST', `/api/organisations/${org}/events`, { event_type: 'finding.created', title: 'x\ud800', data: { title: 'ok', severity: 'high' } }),
      await t.request('POST', `/api/organisations/${org}/webhooks`, { url: 'https://siem.example.com/hook', description: 'ops \ud83d' }),
      await t.request('POST', `/api/organisations/${org}/projects/${project}/monitoring/pause`, { reason: 'maintenance \udead' }),
    ];
    for (const answer of refused) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
      expect(answer.body.error.code).toBe('invalid_request');
    }
    expect(await settledEventCount(store)).toBe(before);
  });

  it('refuses signed payloads that are no alerts, stores nothing, and lists them with the reason for the operator', async () => {
    const before = await settledEventCount(store);
    const junk = ['null', '42', '"hello"', '[1,2]', '[{"a":1},"x"]', 'true'];
    for (const body of junk) {
      const answer = await postWebhook(t.url, 'edge', SECRET, body);
      expect(answer.status, body).toBe(400);
      expect(answer.body.error.code).toBe('invalid_payload');
      expect(answer.body.error.message).toMatch(/must be a JSON object or a non-empty array of objects/);
    }
    const notJson = await postWebhook(t.url, 'edge', SECRET, '{"oops":');
    expect(notJson.status).toBe(400);
    // A request that fails the signature says nothing about the source: not listed.
    expect((await postWebhook(t.url, 'edge', 'wrong-secret', 'null')).status).toBe(401);
    expect(await settledEventCount(store)).toBe(before);

    const listed = await t.request('GET', '/api/webhooks/edge/rejected');
    expect(listed.status).toBe(200);
    expect(listed.body[0]).toMatchObject({ code: 'invalid_payload', body_excerpt: '{"oops":', body_encoding: 'utf8', size: 8, body_truncated: false });
    expect(listed.body[0].message).toMatch(/not valid JSON/);
    expect(listed.body[0].request_id).toEqual(expect.any(String));
    expect(listed.body.slice(1, 1 + junk.length).map((r: any) => r.body_excerpt)).toEqual([...junk].reverse());
    expect(listed.body.some((r: any) => r.body_excerpt === 'null' && r.message.endsWith('not null'))).toBe(true);
  });

  it('caps the alerts one request may carry (413 too_many_alerts), storing none of them', async () => {
    const before = await settledEventCount(store);
    const batch = [1, 2, 3, 4].map((n) => alert(`batch-${n}`));
    const answer = await postWebhook(t.url, 'edge', SECRET, batch);
    expect(answer.status).toBe(413);
    expect(answer.body.error).toMatchObject({ code: 'too_many_alerts', message: expect.stringContaining('at most 3 alerts') });
    expect(await settledEventCount(store)).toBe(before);
    expect((await postWebhook(t.url, 'edge', SECRET, batch.slice(0, 3))).status).toBe(202);
    expect((await t.request('GET', '/api/webhooks/edge/rejected')).body[0].code).toBe('too_many_alerts');
  });

  it('prints the refusals with tw-cli webhook rejected', async () => {
    // Asynchronously: the server answering it runs in this process.
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [join(__dirname, '..', '..', 'dist', 'cli', 'tw-cli.js'), 'webhook', 'rejected', 'edge'],
        { env: { ...process.env, TW_URL: t.url, TW_API_KEY: ADMIN_KEY }, timeout: 20_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/too_many_alerts/);
    expect(run.stdout).toMatch(/invalid_payload/);
    expect(run.stdout).toContain('8 bytes of application/json: {"oops":');
  });

  it("shows a source's refusals only to its own organisation", async () => {
    const key = (await t.request('POST', `/api/organisations/${org}/api-keys`, { name: 'r', scopes: ['read'] })).body.key;
    expect((await t.request('GET', '/api/webhooks/edge/rejected', undefined, key)).status).toBe(404);
  });
});

describe('rate limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { TW_WEBHOOK_RATE_LIMIT: '3', TW_API_RATE_LIMIT: '8', TW_RATE_LIMIT_WINDOW: '1m' } });
    for (const source of ['limited', 'unlimited', 'strict']) {
      expect((await t.request('POST', '/api/webhooks', { source, secret: SECRET })).status).toBe(201);
    }
    expect((await t.request('PATCH', '/api/webhooks/unlimited', { rate_limit: 0 })).body.rate_limit).toBe(0);
    expect((await t.request('PATCH', '/api/webhooks/strict', { rate_limit: 1 })).body.rate_limit).toBe(1);
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (source: string, n: number) =>
    fetch(`${t.url}/api/webhooks/${source}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert(`${source}-${n}`)) });

  it('answers 429 rate_limited with Retry-After and the RateLimit headers past a source\'s limit, and counts it', async () => {
    // Unsigned: the limit is checked before the body is read or the signature checked, so a flood costs nothing.
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let n = 0; n < 5; n++) {
      last = await post('limited', n);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect(await last!.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringMatching(/^Rate limit exceeded: at most 3 requests per 1m; retry in/) } });
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last!.headers.get('ratelimit-limit')).toBe('3');
    expect(last!.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(last!.headers.get('ratelimit-reset'))).toBeGreaterThan(0);

    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/rate_limited_total\{limit="webhook"\} 2/);
    expect(metrics).toMatch(/webhook_errors_total\{source="limited",code="rate_limited"\} 2/);
  });

  it("applies a source's own rate_limit: 0 is no limit, 1 is one request a window", async () => {
    const unlimited = await Promise.all([0, 1, 2, 3, 4, 5].map((n) => post('unlimited', n)));
    expect(unlimited.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 401]);
    expect((await post('strict', 0)).status).toBe(401);
    expect((await post('strict', 1)).status).toBe(429);
  });

  it('limits each API key on its own and leaves the probes alone', async () => {
    const key = (await t.request('POST', '/api/organisations/default/api-keys', { name: 'k', scopes: ['read'] })).body.key;
    const statuses: number[] = [];
    for (let n = 0; n < 10; n++) statuses.push((await t.request('GET', '/api/organisations', undefined, key)).status);
    expect(statuses.slice(0, 8).every((s) => s === 200)).toBe(true);
    const refused = await t.request('GET', '/api/organisations', undefined, key);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    expect(refused.headers.get('retry-after')).toEqual(expect.any(String));
    // Another key has its own budget; health and metrics have none.
    const other = (await t.request('POST', '/api/organisations/default/api-keys', { name: 'k2', scopes: ['read'] }, ADMIN_KEY)).status;
    expect([201, 429]).toContain(other);
    for (let n = 0; n < 20; n++) expect((await fetch(`${t.url}/health/live`)).status).toBe(200);
    expect(await (await fetch(`${t.url}/metrics`)).text()).toMatch(/rate_limited_total\{limit="api"\} [1-9]/);
  });
});

describe('/metrics with TW_METRICS_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { TW_METRICS_TOKEN: 'scrape-token-0123456789' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('requires the token as a bearer token, and nothing else opens it', async () => {
    const anonymous = await fetch(`${t.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await anonymous.json()) as any).error.code).toBe('unauthorized');
    expect((await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).status).toBe(401);
    expect((await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer scrape-token-012345678' } })).status).toBe(401);
    const scraped = await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer scrape-token-0123456789' } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('webhook_received_total');
  });
});

describe('request timeouts', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { TW_HEADERS_TIMEOUT: '1s', TW_REQUEST_TIMEOUT: '2s' } });
    expect((await t.request('POST', '/api/webhooks', { source: 'slow', secret: SECRET })).status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Opens a raw connection, sends `head`, then one byte of `trickle` every `everyMs`; resolves with what the server answered and when. */
  function slowClient(head: string, trickle: string, everyMs: number) {
    const { port } = new URL(t.url);
    return new Promise<{ answer: string; afterMs: number }>((resolve) => {
      const started = Date.now();
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(head));
      let answer = '';
      let sent = 0;
      const timer = setInterval(() => {
        if (sent < trickle.length && socket.writable) socket.write(trickle[sent++]);
      }, everyMs);
      socket.on('data', (chunk) => (answer += chunk.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ answer, afterMs: Date.now() - started });
      });
    });
  }

  it('answers a body trickled a byte at a time with 408 request_timeout once TW_REQUEST_TIMEOUT is up', async () => {
    const body = JSON.stringify(alert('slow-1'));
    const { answer, afterMs } = await slowClient(
      `POST /api/webhooks/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
      300,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('"code":"request_timeout"');
    expect(afterMs).toBeGreaterThanOrEqual(1_900);
    expect(afterMs).toBeLessThan(5_000);
  });

  it('answers headers trickled a byte at a time with 408 once TW_HEADERS_TIMEOUT is up', async () => {
    const { answer, afterMs } = await slowClient('GET /health HTTP/1.1\r\n', 'X-Slow: ' + 'a'.repeat(100), 200);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(afterMs).toBeLessThan(4_000);
  });
});

describe('a rate limit declared in the configuration file', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'towline-hardening-config-'));
    const file = join(dir, 'webhook_config.yaml');
    writeFileSync(file, `sources:\n  declared:\n    secret: "${SECRET}"\n    rate_limit: 2\n  plain:\n    secret: "${SECRET}"\n`);
    t = await startTestApp({ env: { TW_CONFIG: file, TW_WEBHOOK_RATE_LIMIT: '100' } });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies to that source only', async () => {
    expect((await t.request('GET', '/api/webhooks/declared')).body).toMatchObject({ rate_limit: 2, managed_by: 'config' });
    expect((await t.request('GET', '/api/webhooks/plain')).body.rate_limit).toBeNull();
    const statuses = [];
    for (let n = 0; n < 3; n++) statuses.push((await postWebhook(t.url, 'declared', SECRET, alert(`declared-${n}`))).status);
    expect(statuses).toEqual([202, 202, 429]);
    expect((await postWebhook(t.url, 'plain', SECRET, alert('plain-1'))).status).toBe(202);
  });
});
