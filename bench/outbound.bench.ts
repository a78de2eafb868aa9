import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/config';
import { EVENT_STORE, type EventStore } from '../src/event-store/event-store.port';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite.event-store';
import { buildEnvelope } from '../src/outbound/envelope';
import { lastDeliveryAppends, replayAppends, type LogAppend } from './floors';
import { compared, envInt, printFigure, type Figure } from './measure';

/**
 * Outbound: N security events published through the producer API to an organisation with 5 webhooks (local
 * receivers on 127.0.0.1 answering 200), timed from the first publish until every one of the N × 5
 * deliveries is recorded as succeeded in the store — planning, claiming, rendering, signing, the SSRF-guarded
 * POST and the durable record of every attempt. Baseline, in the same process and against the same kind of
 * receivers: a plain undici loop POSTing the same number of requests, with bodies of the same size, at the
 * delivery worker's default concurrency. The ratio is what recording and guarding every delivery costs.
 * Both sides run a warm-up first, so neither pays alone for compiling its code (a cold undici loop runs at
 * about half its speed). Sizes: BENCH_OUTBOUND_EVENTS (400), BENCH_OUTBOUND_WARMUP (100 events before the
 * measured ones), BENCH_OUTBOUND_CONCURRENCY (32), BENCH_OUTBOUND_TIMEOUT_MS (120000, per round).
 */
const EVENTS = envInt('BENCH_OUTBOUND_EVENTS', 400);
/** TW_DELIVERY_CONCURRENCY's default; the producer API is driven at the same concurrency. */
const CONCURRENCY = envInt('BENCH_OUTBOUND_CONCURRENCY', 32);
const WEBHOOKS = 5;
/** Published and delivered before the measured round, to the same webhooks (BENCH_OUTBOUND_WARMUP). */
const WARMUP_EVENTS = envInt('BENCH_OUTBOUND_WARMUP', 100);
const TARGET_RATIO = 0.4;
/** Every run stops by itself: a run that has not finished by then fails with what it got. */
const TIMEOUT_MS = envInt('BENCH_OUTBOUND_TIMEOUT_MS', 120_000);
const ADMIN = `tw_${'o'.repeat(43)}`;

const finding = (i: number) => ({
  finding_id: `f-${i}`,
  title: `Prompt Injection via System Override #${i}`,
  severity: 'critical',
  category: 'prompt_injection',
  owasp_category: 'LLM01',
});

interface Receivers {
  urls: string[];
  /** performance.now() when each request's body had arrived, by the envelope id in it. */
  arrivals: Map<string, number[]>;
  received: number;
  close(): Promise<void>;
}

/**
 * Plain node:http receivers: read the body, parse it (to note which event it carries), answer 200. Both
 * runs use the same ones, so the receivers' share of this process's CPU is the same on both sides.
 */
async function startReceivers(count: number): Promise<Receivers> {
  const servers: Server[] = [];
  const receivers: Receivers = {
    urls: [],
    arrivals: new Map(),
    received: 0,
    close: () => Promise.all(servers.map((s) => (s.closeAllConnections(), new Promise<void>((resolve) => s.close(() => resolve()))))).then(() => undefined),
  };
  for (let i = 0; i < count; i++) {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const at = performance.now();
        const id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string }).id;
        const seen = receivers.arrivals.get(id);
        if (seen) seen.push(at);
        else receivers.arrivals.set(id, [at]);
        receivers.received += 1;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    receivers.urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/${i}`);
  }
  return receivers;
}

function deadline<T>(what: string, progress: () => string): { promise: Promise<T>; clear(): void } {
  let timer: NodeJS.Timeout;
  const promise = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${TIMEOUT_MS} ms (${progress()})`)), TIMEOUT_MS);
  });
  return { promise, clear: () => clearTimeout(timer) };
}

/** Runs `work(i)` for i in [0, total) with `concurrency` of them in flight. */
async function pool(total: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) await work(next++);
    }),
  );
}

/** A body the size of the envelopes Towline sends in this benchmark (same data, same id length). */
function sampleBody(i: number): Buffer {
  const envelope = buildEnvelope(
    { event_type: 'finding.created', organisation_id: '00000000-0000-4000-8000-000000000000', project_id: null, data: finding(i) },
    `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    new Date(),
  );
  return Buffer.from(JSON.stringify(envelope));
}

/** The same headers a delivery carries, with values of the same length, so the wire is the same size too. */
const BASELINE_HEADERS: Record<string, string> = {
  'content-type': 'application/json',
  'user-agent': 'Towline-Webhooks/0.1',
  'x-towline-signature': `sha256=${'0'.repeat(64)}`,
  'x-towline-event': 'finding.created',
  'x-towline-delivery': '00000000-0000-5000-8000-000000000000',
  'x-towline-timestamp': '1700000000',
  'webhook-id': '00000000-0000-5000-8000-000000000000',
  'webhook-timestamp': '1700000000',
  'webhook-signature': `v1,${'A'.repeat(43)}=`,
};

interface Run {
  perSecond: number;
  /** CPU time of this process (user + system) per request or delivery, µs: steadier than wall time on shared cores. */
  cpuUs: number;
}

interface TowlineRun extends Run {
  p50Ms: number;
  p99Ms: number;
  duplicates: number;
  /** What the last event and one of its deliveries wrote to the log, for the floor. */
  written: { event: LogAppend[]; delivery: LogAppend[] };
}

/**
 * The baseline: a plain undici POST loop over `total` requests. With `written`, the floor: the same loop,
 * each request with the log writes of one delivery around it — the delivery's own appends as the Towline
 * run made them (scheduled before the request; attempted and succeeded after), and one event's record for
 * every WEBHOOKS requests — appended through the store port alone (floors.ts). No planning, rendering,
 * signing, guard or read side: the delivery rate cannot pass it.
 */
async function loop(total: number, written?: TowlineRun['written']): Promise<Run> {
  const name = written ? 'floor' : 'baseline';
  const receivers = await startReceivers(WEBHOOKS);
  const agent = new Agent();
  const bodies = Array.from({ length: total }, (_, i) => sampleBody(i));
  const dir = written && mkdtempSync(join(tmpdir(), 'towline-bench-outbound-floor-'));
  const store = dir ? new SqliteEventStore(join(dir, 'towline.db')) : undefined;
  const [scheduled, ...afterwards] = written?.delivery ?? [];
  try {
    const limit = deadline<never>(name, () => `${receivers.received}/${total} requests`);
    const started = performance.now();
    const cpu = process.cpuUsage();
    await Promise.race([
      pool(total, CONCURRENCY, async (i) => {
        const own = new Map();
        if (store && written) {
          if (i % WEBHOOKS === 0) await replayAppends(store, written.event);
          await replayAppends(store, [scheduled], own);
        }
        const response = await request(receivers.urls[i % WEBHOOKS], { method: 'POST', headers: BASELINE_HEADERS, body: bodies[i], dispatcher: agent });
        await response.body.text();
        if (response.statusCode !== 200) throw new Error(`The ${name}'s receiver answered ${response.statusCode}`);
        if (store) await replayAppends(store, afterwards, own);
      }),
      limit.promise,
    ]).finally(() => limit.clear());
    const used = process.cpuUsage(cpu);
    return { perSecond: total / ((performance.now() - started) / 1000), cpuUs: (used.user + used.system) / total };
  } finally {
    await agent.close();
    await receivers.close();
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

async function towline(): Promise<TowlineRun> {
  const total = EVENTS * WEBHOOKS;
  const receivers = await startReceivers(WEBHOOKS);
  const dataDir = mkdtempSync(join(tmpdir(), 'towline-bench-outbound-'));
  let app: NestFastifyApplication | undefined;
  try {
    app = await createApp(
      loadConfig({
        TW_DATA_DIR: dataDir,
        TW_LOG_LEVEL: 'silent',
        TW_ADMIN_KEY: ADMIN,
        TW_WEBHOOK_ALLOW_CIDRS: '127.0.0.0/8',
        TW_ALLOW_INSECURE_WEBHOOKS: 'true',
      }),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    const api = new Agent();
    const call = async (path: string, body: unknown, expected: number): Promise<any> => {
      const response = await request(`${url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        dispatcher: api,
      });
      const text = await response.body.text();
      if (response.statusCode !== expected) throw new Error(`POST ${path}: HTTP ${response.statusCode} ${text}`);
      return JSON.parse(text);
    };

    const org = (await call('/api/organisations', { name: 'Outbound bench' }, 201)).id as string;
    for (const receiver of receivers.urls) await call(`/api/organisations/${org}/webhooks`, { url: receiver }, 201);

    // Done means recorded: every DeliverySucceeded in the store, seen by a subscription woken at each commit.
    const store = app.get<symbol, EventStore>(EVENT_STORE);
    let succeeded = 0;
    let target = 0;
    let reached: (() => void) | undefined;
    const subscription = store.subscribeToAll(
      { filter: { eventTypes: ['DeliverySucceeded'] } },
      {
        onEvent: () => {
          succeeded += 1;
          if (succeeded === target) reached?.();
        },
      },
    );
    await subscription.caughtUp;

    /** Publishes `events` events and resolves once all their deliveries have succeeded; `publishedAt` by envelope id. */
    const round = async (first: number, events: number, publishedAt: Map<string, number>) => {
      target += events * WEBHOOKS;
      const all = new Promise<void>((resolve) => (reached = resolve));
      const limit = deadline<never>('towline', () => `${receivers.received} requests received, ${succeeded}/${target} deliveries succeeded`);
      try {
        await Promise.race([
          (async () => {
            await pool(events, CONCURRENCY, async (i) => {
              const sentAt = performance.now();
              const envelope = await call(`/api/organisations/${org}/events`, { event_type: 'finding.created', data: finding(first + i) }, 201);
              publishedAt.set(envelope.id as string, sentAt);
            });
            await all;
          })(),
          limit.promise,
        ]);
      } finally {
        limit.clear();
      }
    };

    const publishedAt = new Map<string, number>();
    let seconds: number;
    let used: NodeJS.CpuUsage;
    try {
      // A warm-up round first, as the baseline has one: the measured round does not pay for compiling Towline.
      await round(0, WARMUP_EVENTS, new Map());
      const started = performance.now();
      const cpu = process.cpuUsage();
      await round(WARMUP_EVENTS, EVENTS, publishedAt);
      used = process.cpuUsage(cpu);
      seconds = (performance.now() - started) / 1000;
    } finally {
      await subscription.stop();
      await api.close();
    }
    const written = await lastDeliveryAppends(store);

    // Event → first attempt: from the moment its publish request was sent to the first request of each of its
    // deliveries arriving at a receiver.
    const latencies: number[] = [];
    let duplicates = 0;
    for (const [id, sentAt] of publishedAt) {
      const arrivals = receivers.arrivals.get(id) ?? [];
      if (arrivals.length !== WEBHOOKS) duplicates += arrivals.length - WEBHOOKS;
      latencies.push(...arrivals.sort((a, b) => a - b).slice(0, WEBHOOKS).map((at) => at - sentAt));
    }
    latencies.sort((a, b) => a - b);
    const quantile = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    return {
      perSecond: total / seconds,
      cpuUs: (used.user + used.system) / total,
      p50Ms: quantile(0.5),
      p99Ms: quantile(0.99),
      duplicates,
      written,
    };
  } finally {
    await app?.close();
    await receivers.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function outboundBenchmark(): Promise<Figure[]> {
  const total = EVENTS * WEBHOOKS;
  // A warm-up of the full size, so that neither side pays alone for compiling undici and node:http.
  await loop(total);
  // The baseline runs before and after Towline and counts as their mean, so a machine whose load changes
  // during the run (shared cores) moves the ratio less.
  const before = await loop(total);
  const ours = await towline();
  const least = await loop(total, ours.written);
  const after = await loop(total);
  const eventsPerDelivery = [...ours.written.delivery, ...ours.written.event].reduce((n, a, i) => n + a.events.length / (i < ours.written.delivery.length ? 1 : WEBHOOKS), 0);
  const base = (before.perSecond + after.perSecond) / 2;
  const baseCpuUs = (before.cpuUs + after.cpuUs) / 2;
  return [
    compared({
      name: 'outbound: deliveries recorded as succeeded vs a plain undici POST loop',
      value: ours.perSecond,
      baseline: base,
      unit: 'deliveries/s',
      target: TARGET_RATIO,
      // Every delivery succeeds at its first attempt here, so any request beyond one per delivery is a duplicate.
      valid: ours.duplicates === 0,
      note: ours.duplicates === 0 ? undefined : `${ours.duplicates} duplicate attempts`,
      extra: {
        events: EVENTS,
        webhooks: WEBHOOKS,
        deliveries: total,
        concurrency: CONCURRENCY,
        baseline_before: before.perSecond,
        baseline_after: after.perSecond,
        first_attempt_p50_ms: ours.p50Ms,
        first_attempt_p99_ms: ours.p99Ms,
        // Both sides are bound by this one thread: the ratio of CPU time per request tells what the wall-clock
        // ratio would be on an otherwise idle machine.
        cpu_us_per_delivery: ours.cpuUs,
        baseline_cpu_us_per_request: baseCpuUs,
        cpu_ratio: baseCpuUs / ours.cpuUs,
      },
    }),
    compared({
      name: "outbound floor: the same loop with each delivery's events appended through the store port",
      value: least.perSecond,
      baseline: base,
      unit: 'deliveries/s',
      note: 'no planning, rendering, signing or read side: the delivery rate cannot pass this',
      extra: { events_per_delivery: eventsPerDelivery, cpu_us_per_delivery: least.cpuUs, concurrency: CONCURRENCY },
    }),
    { name: 'outbound: event → first attempt, p50', value: ours.p50Ms, unit: 'ms' },
    { name: 'outbound: event → first attempt, p99', value: ours.p99Ms, unit: 'ms' },
  ];
}

// `node dist/bench/outbound.bench.js` runs this benchmark alone (for profiling with --cpu-prof).
if (require.main === module) {
  outboundBenchmark().then(
    (figures) => {
      figures.forEach(printFigure);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
