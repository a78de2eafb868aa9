import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app';
import { expectHealthy, RELIABILITY_LIMITS, report, waitUntil } from './support';

type Fault = 'error_500' | 'throttled_429' | 'gone_410' | 'redirect_301' | 'hang' | 'reset' | 'trickle' | 'huge_body' | 'healthy';

const HUGE_BODY_BYTES = 32 * 1024 * 1024;
const EVENTS = 3;

/** A receiver misbehaving in one way, written with node:http and raw sockets only. */
async function faultyReceiver(fault: Fault): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits++;
      switch (fault) {
        case 'error_500':
          res.writeHead(500).end('boom');
          return;
        case 'throttled_429':
          res.writeHead(429, { 'retry-after': '1' }).end();
          return;
        case 'gone_410':
          res.writeHead(410).end();
          return;
        case 'redirect_301':
          res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
          return;
        case 'hang':
          return; // never answers: the attempt's timeout must end it
        case 'reset':
          req.socket.destroy();
          return;
        case 'trickle': {
          res.writeHead(200, { 'content-type': 'text/plain' });
          const timer = setInterval(() => res.write('x'), 1_000);
          timers.add(timer);
          res.on('close', () => clearInterval(timer));
          return;
        }
        case 'huge_body': {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(HUGE_BODY_BYTES) });
          const chunk = Buffer.alloc(64 * 1024, 0x20);
          let sent = 0;
          const pump = () => {
            while (sent < HUGE_BODY_BYTES) {
              sent += chunk.length;
              if (!res.write(chunk)) return void res.once('drain', pump);
            }
            res.end();
          };
          pump();
          res.on('error', () => undefined);
          return;
        }
        case 'healthy':
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/${fault}`,
    hits: () => hits,
    close: async () => {
      timers.forEach(clearInterval);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const FAULTS: Fault[] = ['error_500', 'throttled_429', 'gone_410', 'redirect_301', 'hang', 'reset', 'trickle', 'huge_body'];

describe('faulty receivers', () => {
  let t: TestApp;
  const receivers = new Map<Fault, Awaited<ReturnType<typeof faultyReceiver>>>();
  const settings = {
    TW_WEBHOOK_ALLOW_CIDRS: '127.0.0.0/8',
    TW_ALLOW_INSECURE_WEBHOOKS: 'true',
    TW_DELIVERY_RETRY_SCHEDULE: '200ms,400ms',
    TW_DELIVERY_RETRY_JITTER: 'none',
    TW_DELIVERY_TIMEOUT: '1500ms',
    TW_DELIVERY_RETRY_AFTER_MAX: '2s',
    // A receiver answering 429 for ever is back-pressure, which uses up no retry: its deliveries end at their
    // deadline, short here so the loop ends in seconds.
    TW_DELIVERY_DEADLINE: '10s',
    // An open circuit holds an endpoint's deliveries for its cool-down: short, so the loop ends in seconds.
    TW_DELIVERY_BREAKER_COOLDOWN: '1s',
  };

  beforeAll(async () => {
    report('faulty-receivers settings', { ...RELIABILITY_LIMITS, ...settings, events: EVENTS, huge_body_bytes: HUGE_BODY_BYTES });
    for (const fault of [...FAULTS, 'healthy' as const]) receivers.set(fault, await faultyReceiver(fault));
    t = await startTestApp({ env: { ...RELIABILITY_LIMITS, ...settings } });
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([...receivers.values()].map((r) => r.close()));
  });

  it('ends every delivery to a misbehaving receiver, and keeps delivering to the healthy one', async () => {
    const hooks = new Map<Fault, string>();
    for (const fault of FAULTS) {
      const created = await t.request('POST', '/api/organisations/default/webhooks', { url: receivers.get(fault)!.url, description: fault });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      hooks.set(fault, created.body.id);
    }
    const started = Date.now();
    for (let n = 0; n < EVENTS; n++) {
      const published = await t.request('POST', '/api/organisations/default/events', {
        event_type: 'finding.created',
        data: { finding_id: `faulty-${n}`, title: `Faulty ${n}`, severity: 'medium' },
      });
      expect(published.status).toBe(201);
    }
    const outcomes: Record<string, Record<string, number>> = {};
    for (const [fault, id] of hooks) {
      const items = await waitUntil(
        `${fault}: every delivery to end`,
        async () => {
          const listed = (await t.request('GET', `/api/organisations/default/webhooks/${id}/deliveries`)).body.items as any[];
          return listed.length === EVENTS && listed.every((d) => ['succeeded', 'failed', 'cancelled'].includes(d.status)) && listed;
        },
        60_000,
        200,
      );
      outcomes[fault] = {};
      for (const d of items) outcomes[fault][d.status] = (outcomes[fault][d.status] ?? 0) + 1;
      outcomes[fault].receiver_hits = receivers.get(fault)!.hits();
    }
    report('faulty-receivers outcomes', { ...outcomes, settle_ms: Date.now() - started, rss_mb: Math.round(process.memoryUsage().rss / 1e6) });
    expect(outcomes.error_500).toMatchObject({ failed: EVENTS });
    expect(outcomes.throttled_429.failed).toBe(EVENTS);
    expect(outcomes.gone_410.succeeded ?? 0).toBe(0);
    expect(outcomes.redirect_301.succeeded ?? 0).toBe(0);
    expect(outcomes.hang).toMatchObject({ failed: EVENTS });
    expect(outcomes.reset).toMatchObject({ failed: EVENTS });
    // 410 disabled its webhook: Towline says so.
    expect((await t.request('GET', `/api/organisations/default/webhooks/${hooks.get('gone_410')}`)).body.enabled).toBe(false);

    // The worker is still healthy: a new webhook on a healthy receiver gets a new event promptly.
    const healthy = receivers.get('healthy')!;
    const hook = await t.request('POST', '/api/organisations/default/webhooks', { url: healthy.url, description: 'healthy' });
    const sentAt = Date.now();
    await t.request('POST', '/api/organisations/default/events', { event_type: 'finding.created', data: { finding_id: 'after', title: 'After', severity: 'low' } });
    await waitUntil('the healthy receiver to get the new event', async () => healthy.hits() >= 1, 10_000, 20);
    const deliveredIn = Date.now() - sentAt;
    await waitUntil(
      'the healthy delivery to be recorded',
      async () => ((await t.request('GET', `/api/organisations/default/webhooks/${hook.body.id}/deliveries`)).body.items as any[])[0]?.status === 'succeeded',
      10_000,
    );
    report('faulty-receivers healthy after', { delivered_in_ms: deliveredIn });
    expect(deliveredIn).toBeLessThan(5_000);
    await expectHealthy(t.url);
  });
});
