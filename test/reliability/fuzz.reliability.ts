import fc from 'fast-check';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { sign } from '../fixtures/webhooks';
import { startTestApp, type TestApp, ADMIN_KEY } from '../support/test-app';
import { expectHealthy, RELIABILITY_LIMITS, report } from './support';

/** Bounds of every property: runs, and a time limit after which it stops (and reports how far it got). */
const RUNS = 500;
const TIME_LIMIT_MS = 25_000;
const SECRET = 'fuzz-secret-0123';
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype);
const EMOJI = ['😀', '👍🏽', '🇫🇷', '👨‍👩‍👧‍👦', '🚨', 'é', '\u200d', '\u0301'];
const LONE = ['\ud800', '\udbff', '\udc00', '\udfff'];

interface Sent {
  requestId: string;
  status: number;
  what: string;
}

describe('fuzzing the inbound endpoint and the API', () => {
  let t: TestApp;
  let store: EventStore;
  const sent: Sent[] = [];
  let counter = 0;
  const nextId = () => `fz-${++counter}`;

  /** One request with its own X-Request-Id (so the events it caused can be found by correlation id); never a 5xx. */
  async function send(what: string, path: string, init: { method?: string; body?: string | Buffer; headers?: Record<string, string> }): Promise<{ status: number; body: any }> {
    const requestId = nextId();
    const response = await fetch(t.url + path, {
      method: init.method ?? 'POST',
      headers: { 'x-request-id': requestId, ...init.headers },
      body: init.body,
    });
    const text = await response.text();
    sent.push({ requestId, status: response.status, what });
    if (response.status >= 500) throw new Error(`${what}: ${response.status} ${text.slice(0, 300)} for ${String(init.body).slice(0, 300)}`);
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: response.status, body };
  }

  /** A signed inbound request, as the source would send it. */
  function inbound(what: string, body: string | Buffer, overrides: Record<string, string> = {}) {
    const timestamp = Math.floor(Date.now() / 1000);
    return send(what, '/api/webhooks/fuzz', {
      body,
      headers: { 'content-type': 'application/json', 'x-webhook-timestamp': String(timestamp), 'x-webhook-signature': sign(SECRET, timestamp, body), ...overrides },
    });
  }

  function apiCall(what: string, method: string, path: string, body: string) {
    return send(what, path, { method, body, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' } });
  }

  async function check(name: string, property: fc.IAsyncPropertyWithHooks<any> | fc.IAsyncProperty<any>, runs = RUNS) {
    const started = Date.now();
    const before = sent.length;
    const details = await fc.check(property, { numRuns: runs, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false });
    report(`fuzz ${name}`, { runs: details.numRuns, requests: sent.length - before, interrupted: details.interrupted, ms: Date.now() - started });
    if (details.failed) throw new Error(`${name}: ${fc.defaultReportMessage(details)}`);
  }

  const uniqueObject = (data: Record<string, unknown>) => JSON.stringify({ event_type: 'security_alert', n: ++counter, data });

  beforeAll(async () => {
    const settings = { ...RELIABILITY_LIMITS, TW_REQUEST_TIMEOUT: '2s', TW_HEADERS_TIMEOUT: '1s', TW_BODY_LIMIT: '262144' };
    report('fuzz settings', { ...settings, runs: RUNS, time_limit_ms: TIME_LIMIT_MS });
    t = await startTestApp({ env: settings });
    store = t.app.get<symbol, EventStore>(EVENT_STORE);
    expect((await t.request('POST', '/api/webhooks', { source: 'fuzz', secret: SECRET })).status).toBe(201);
    expect((await t.request('POST', '/api/webhooks', { source: 'fuzz-api', secret: SECRET })).status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses malformed, deep, ill-formed and shapeless signed bodies with a 4xx', async () => {
    const refusedBody = fc.oneof(
      // Malformed JSON, and valid JSON cut short.
      fc.string({ maxLength: 200 }).filter((s) => {
        try {
          JSON.parse(s);
          return false;
        } catch {
          return true;
        }
      }),
      fc.jsonValue().map((v) => JSON.stringify({ a: v })).chain((s) => fc.integer({ min: 1, max: Math.max(1, s.length - 1) }).map((cut) => s.slice(0, cut))),
      // Nesting past 64 levels, of both kinds.
      fc.integer({ min: 65, max: 20_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
      fc.integer({ min: 65, max: 2_000 }).map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
      // A lone surrogate somewhere: value, key, deep inside.
      fc.tuple(fc.string({ maxLength: 40 }), fc.constantFrom(...LONE), fc.string({ maxLength: 40 }), fc.boolean()).map(([a, lone, b, asKey]) =>
        JSON.stringify(asKey ? { data: { [`${a}${lone}${b}`]: 1 } } : { data: { alert_id: 'x', title: `${a}${lone}${b}` } }),
      ),
      // Signed, valid JSON, but no alert: scalars, empty and non-object arrays.
      fc.oneof(fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null), fc.string({ maxLength: 50 })).map((v) => JSON.stringify(v)),
      fc.array(fc.oneof(fc.integer(), fc.string(), fc.constant(null)), { maxLength: 5 }).map((v) => JSON.stringify(v)),
    );
    await check(
      'inbound refused bodies',
      fc.asyncProperty(refusedBody, async (body) => {
        const answer = await inbound('inbound refused', body);
        expect([400, 413], body.slice(0, 200)).toContain(answer.status);
      }),
    );
  });

  it('never fails on signed objects: emoji at every cut point, control characters, prototype names, wrong types, huge strings', async () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 100 }),
      fc.tuple(fc.integer({ min: 240, max: 270 }), fc.constantFrom(...EMOJI)).map(([pad, glyph]) => 'a'.repeat(pad) + glyph.repeat(8)),
      fc.constantFrom(...PROTOTYPE_NAMES),
      fc.string({ unit: fc.constantFrom('\u0000', '\u0007', '\u001b', '\u007f', '\u2028', '\ufeff', 'a'), maxLength: 50 }),
      fc.integer({ min: 10_000, max: 200_000 }).map((n) => 'x'.repeat(n)),
    );
    const value = fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null), fc.array(text, { maxLength: 3 }), fc.dictionary(text, text, { maxKeys: 3 }));
    const data = fc.record(
      {
        alert_id: value,
        severity: fc.oneof(fc.constantFrom('high', 'P1', 'critical', ...PROTOTYPE_NAMES), value),
        title: value,
        details: fc.dictionary(fc.oneof(text, fc.constantFrom(...PROTOTYPE_NAMES)), value, { maxKeys: 4 }),
        timestamp: value,
      },
      { requiredKeys: [] },
    );
    await check(
      'inbound signed objects',
      fc.asyncProperty(data, async (fields) => {
        const body = uniqueObject(fields);
        const answer = await inbound('inbound object', body);
        // Objects are alerts; the only refusals are bodies past the limit, text that is not Unicode and `__proto__` keys.
        const wellFormed = !/[\ud800-\udfff]/.test(body.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''));
        const protoKey = body.includes('"__proto__":');
        const expected = Buffer.byteLength(body) > 262_144 ? 413 : wellFormed && !protoKey ? 202 : 400;
        expect(answer.status, body.slice(0, 300)).toBe(expected);
      }),
      400,
    );
  });

  it('refuses bad headers with a 4xx: signatures, timestamps, media types, oversized headers', async () => {
    const body = uniqueObject({ alert_id: 'headers' });
    await check(
      'inbound headers',
      fc.asyncProperty(
        fc.record({
          signature: fc.oneof(fc.string({ maxLength: 100 }), fc.constant('sha256='), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }).map((hex) => `sha256=${hex}`)),
          timestamp: fc.oneof(fc.string({ maxLength: 20 }), fc.integer().map(String), fc.constant(String(Math.floor(Date.now() / 1000) - 400))),
          contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data'),
        }),
        async ({ signature, timestamp, contentType }) => {
          const headers: Record<string, string> = { 'content-type': contentType };
          // fetch refuses header values it cannot send; such a header never reaches a server either.
          if (/^[\x20-\x7e]*$/.test(signature)) headers['x-webhook-signature'] = signature;
          if (/^[\x20-\x7e]*$/.test(timestamp)) headers['x-webhook-timestamp'] = timestamp;
          const answer = await send('inbound headers', '/api/webhooks/fuzz', { body, headers });
          expect(answer.status).toBeGreaterThanOrEqual(400);
          expect(answer.status).toBeLessThan(500);
        },
      ),
    );
    // Oversized headers: refused by the server before any route, 431 in the API's error shape.
    const big = await send('oversized header', '/api/webhooks/fuzz', { body, headers: { 'content-type': 'application/json', 'x-filler': 'a'.repeat(20_000) } });
    expect(big.status).toBe(431);
    expect(big.body.error.code).toBe('headers_too_large');
  });

  it('cuts slow bodies at TW_REQUEST_TIMEOUT, many at once, and goes on answering', async () => {
    const { port } = new URL(t.url);
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        new Promise<string>((resolve) => {
          const socket = connect(Number(port), '127.0.0.1', () =>
            socket.write('POST /api/webhooks/fuzz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{'),
          );
          let answer = '';
          const timer = setInterval(() => socket.writable && socket.write(' '), 500);
          socket.on('data', (chunk) => (answer += chunk.toString()));
          socket.on('error', () => undefined);
          socket.on('close', () => {
            clearInterval(timer);
            resolve(answer);
          });
        }),
      ),
    );
    const elapsed = Date.now() - started;
    report('fuzz slow bodies', { connections: answers.length, answered_408: answers.filter((a) => a.startsWith('HTTP/1.1 408')).length, ms: elapsed });
    expect(answers.every((a) => a.startsWith('HTTP/1.1 408') && a.includes('request_timeout'))).toBe(true);
    expect(elapsed).toBeLessThan(6_000);
    expect((await fetch(`${t.url}/health/live`)).status).toBe(200);
  });

  it('never answers the API with a 5xx, whatever the body', async () => {
    const project = (await t.request('POST', '/api/organisations/default/projects', { name: 'fuzz' })).body.id;
    const key = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom(...PROTOTYPE_NAMES, '__proto__'));
    const leaf = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.constantFrom(...PROTOTYPE_NAMES),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom(...LONE, ...EMOJI)).map(([a, b]) => a + b),
    );
    const json = fc.letrec((tie) => ({
      node: fc.oneof({ maxDepth: 4 }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(key, tie('node'), { maxKeys: 4 })),
    })).node;
    // Valid bodies with one field replaced, so that the validation past the first check is reached too.
    const endpoints: Array<[string, string, Record<string, unknown>]> = [
      ['POST', '/api/webhooks', { source: 'fz-x', secret: 'a-secret-123' }],
      ['PATCH', '/api/webhooks/fuzz-api', { auto_triage: true, severity_mapping: { high: 'critical' }, rate_limit: 10 }],
      ['POST', '/api/organisations', { name: 'Org' }],
      ['POST', '/api/organisations/default/projects', { name: 'p' }],
      ['POST', '/api/organisations/default/events', { event_type: 'finding.created', data: { finding_id: 'f', title: 't', severity: 'high' } }],
      ['POST', `/api/organisations/default/projects/${project}/monitoring/pause`, { reason: 'maintenance' }],
      ['POST', '/api/organisations/default/api-keys', { name: 'k', scopes: ['read'] }],
      ['POST', '/api/webhooks/fuzz-api/secrets', { grace_period_seconds: 60 }],
    ];
    await check(
      'api bodies',
      fc.asyncProperty(
        fc.constantFrom(...endpoints),
        fc.oneof(
          json.map((v) => JSON.stringify(v) ?? 'null'),
          fc.tuple(key, json).map(([k, v]) => ({ k, v })),
        ),
        async ([method, path, valid], mutation) => {
          const body = typeof mutation === 'string' ? mutation : JSON.stringify({ ...valid, [mutation.k]: mutation.v });
          await apiCall(`api ${method} ${path}`, method, path, body);
        },
      ),
      1_000,
    );
  });

  it('stored nothing for a refused request, and left no consumer stuck and nothing parked', async () => {
    const { health } = await expectHealthy(t.url, 30_000);
    const events = await store.readAll();
    const correlated = new Set(events.map((e) => e.metadata.$correlationId));
    const refused = sent.filter((s) => s.status >= 400);
    const accepted = sent.filter((s) => s.status < 300 && s.what === 'inbound object');
    const storedForRefused = refused.filter((s) => correlated.has(s.requestId));
    const statuses: Record<string, number> = {};
    for (const s of sent) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
    report('fuzz totals', { requests: sent.length, statuses, events: events.length, consumers: health.consumers?.length, parked: health.parked });
    // The check can see what it looks for: every accepted alert left events under its request id.
    expect(accepted.length).toBeGreaterThan(0);
    expect(accepted.filter((s) => !correlated.has(s.requestId))).toEqual([]);
    expect(storedForRefused.map((s) => `${s.what} ${s.status} ${s.requestId}`)).toEqual([]);
  });
});
