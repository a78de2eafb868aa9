import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/config';
import { compared, envInt, type Figure } from './measure';
import { benchEnv } from './replay-store';
import { ADMIN_KEY } from './scenario';

/**
 * Outbound fairness (issue 12): one organisation's healthy webhook, event → first attempt latency, with and
 * without another organisation's 9 hanging webhooks (receivers that take the request and never answer, the
 * most a tenant may have beside one more). The hanging organisation is flooded first, so its deliveries are
 * due before the healthy one's; its attempts hold their slots until TW_DELIVERY_TIMEOUT (15 s, more than the
 * measured window), so every healthy delivery is measured while they hang. Figure: healthy p99 with / p99
 * without; aim ≤ 2×. Sizes: BENCH_FAIRNESS_EVENTS (healthy events, 60, one every BENCH_FAIRNESS_GAP_MS = 50),
 * BENCH_FAIRNESS_FLOOD (events to the hanging organisation, 100 → 900 deliveries).
 */
const EVENTS = envInt('BENCH_FAIRNESS_EVENTS', 60);
const GAP_MS = envInt('BENCH_FAIRNESS_GAP_MS', 50);
const FLOOD = envInt('BENCH_FAIRNESS_FLOOD', 100);
const HANGING = 9;
const TARGET_RATIO = 2;
const TIMEOUT_MS = 60_000;

const finding = (i: number) => ({
  event_type: 'finding.created',
  data: { finding_id: `f-${i}`, title: `Finding ${i}`, severity: 'critical', category: 'prompt_injection', owasp_category: 'LLM01' },
});

interface Receiver {
  url: string;
  /** performance.now() of each arrival, by envelope id. */
  arrivals: Map<string, number>;
  close(): Promise<void>;
}

async function receiver(hang: boolean): Promise<Receiver> {
  const arrivals = new Map<string, number>();
  const held = new Set<ServerResponse>();
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string }).id;
      if (!arrivals.has(id)) arrivals.set(id, performance.now());
      if (hang) held.add(res);
      else res.writeHead(200).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    arrivals,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The healthy webhook's event → first attempt latencies (ms), sorted, with or without the hanging organisation. */
async function healthyLatencies(withHanging: boolean): Promise<number[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'towline-bench-fairness-'));
  const healthy = await receiver(false);
  const hanging = withHanging ? await Promise.all(Array.from({ length: HANGING }, () => receiver(true))) : [];
  let app: NestFastifyApplication | undefined;
  const api = new Agent();
  try {
    app = await createApp(loadConfig(benchEnv(dataDir, { TW_WEBHOOK_ALLOW_CIDRS: '127.0.0.0/8', TW_ALLOW_INSECURE_WEBHOOKS: 'true' })));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    const call = async (path: string, body: unknown): Promise<any> => {
      const response = await request(`${url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        dispatcher: api,
      });
      const text = await response.body.text();
      if (response.statusCode >= 300) throw new Error(`POST ${path}: HTTP ${response.statusCode} ${text}`);
      return JSON.parse(text);
    };
    const good = (await call('/api/organisations', { name: 'Healthy' })).id as string;
    await call(`/api/organisations/${good}/webhooks`, { url: healthy.url });
    if (withHanging) {
      const bad = (await call('/api/organisations', { name: 'Hanging' })).id as string;
      for (const r of hanging) await call(`/api/organisations/${bad}/webhooks`, { url: r.url });
      await Promise.all(Array.from({ length: FLOOD }, (_, i) => call(`/api/organisations/${bad}/events`, finding(i))));
      // Until every hanging endpoint holds its share of the slots.
      const deadline = Date.now() + TIMEOUT_MS;
      while (hanging.reduce((n, r) => n + r.arrivals.size, 0) < 24 && Date.now() < deadline) await sleep(20);
    }
    const sentAt = new Map<string, number>();
    for (let i = 0; i < EVENTS; i++) {
      const started = performance.now();
      const envelope = await call(`/api/organisations/${good}/events`, finding(1_000 + i));
      sentAt.set(envelope.id as string, started);
      await sleep(GAP_MS);
    }
    const deadline = Date.now() + TIMEOUT_MS;
    while (healthy.arrivals.size < EVENTS && Date.now() < deadline) await sleep(20);
    if (healthy.arrivals.size < EVENTS) throw new Error(`only ${healthy.arrivals.size}/${EVENTS} healthy deliveries arrived`);
    return [...sentAt].map(([id, at]) => healthy.arrivals.get(id)! - at).sort((a, b) => a - b);
  } finally {
    await api.close();
    // Closing the hanging receivers first cuts their held requests, so the app's shutdown does not wait on them.
    await Promise.all(hanging.map((r) => r.close()));
    await app?.close();
    await healthy.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

export async function outboundFairnessBenchmark(): Promise<Figure[]> {
  await healthyLatencies(false); // warm-up: neither round pays alone for compiling the code
  const alone = await healthyLatencies(false);
  const beside = await healthyLatencies(true);
  return [
    compared({
      name: 'outbound fairness: healthy webhook p99 (event → attempt) beside 9 hanging webhooks of another organisation',
      value: quantile(beside, 0.99),
      baseline: quantile(alone, 0.99),
      unit: 'ms',
      better: 'lower',
      target: TARGET_RATIO,
      extra: {
        events: EVENTS,
        hanging_webhooks: HANGING,
        flood_deliveries: FLOOD * HANGING,
        p50_alone_ms: quantile(alone, 0.5),
        p50_beside_ms: quantile(beside, 0.5),
        max_beside_ms: beside[beside.length - 1],
      },
    }),
  ];
}
