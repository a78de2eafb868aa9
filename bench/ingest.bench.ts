import Fastify from 'fastify';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/config';
import { measure, report, type Result } from './measure';

/**
 * Ingest: signed alerts posted to POST /api/webhooks/:source over loopback HTTP, each a new incident (the
 * whole hot path: verify, normalize, dedup, number, append with fsync, answer). Baseline, in the same
 * process: a bare Fastify route that only parses, verifies the same HMAC and answers 202 — so the ratio is
 * the cost of recording everything durably.
 */
const REQUESTS = Number(process.env.BENCH_INGEST_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_INGEST_CONCURRENCY ?? 32);
const SECRET = 'bench-secret-0123456789';
const ADMIN = `tw_${'b'.repeat(43)}`;

function signed(i: number): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({
    event_type: 'security_alert',
    timestamp: new Date().toISOString(),
    source: 'edr',
    data: { alert_id: `bench-${i}-${Math.random()}`, severity: 'high', details: { host: `host-${i % 50}` } },
  });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex');
  return {
    body,
    headers: { 'content-type': 'application/json', 'x-webhook-timestamp': timestamp, 'x-webhook-signature': `sha256=${signature}` },
  };
}

async function load(url: string): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        const { body, headers } = signed(next++);
        const response = await fetch(`${url}/api/webhooks/edr`, { method: 'POST', headers, body });
        if (response.status !== 202) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
        await response.arrayBuffer();
      }
    }),
  );
}

async function baseline(): Promise<Result> {
  const app = Fastify();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post('/api/webhooks/:source', async (request, reply) => {
    const raw = request.body as Buffer;
    JSON.parse(raw.toString('utf8'));
    const expected = createHmac('sha256', SECRET).update(`${String(request.headers['x-webhook-timestamp'])}.`).update(raw).digest();
    const given = Buffer.from(String(request.headers['x-webhook-signature']).slice('sha256='.length), 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return reply.status(401).send();
    return reply.status(202).send({ status: 'accepted' });
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    return await measure('baseline: parse + verify + 202, nothing stored', REQUESTS, () => load(url));
  } finally {
    await app.close();
  }
}

async function towline(): Promise<Result> {
  const dataDir = mkdtempSync(join(tmpdir(), 'towline-bench-ingest-'));
  const app = await createApp(loadConfig({ TW_DATA_DIR: dataDir, TW_LOG_LEVEL: 'silent', TW_ADMIN_KEY: ADMIN }));
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const registered = await fetch(`${url}/api/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'edr', secret: SECRET }),
    });
    if (registered.status !== 201) throw new Error(`Registering the source failed: ${registered.status}`);
    return await measure('towline: verify, normalize, open incident, fsync', REQUESTS, () => load(url));
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function ingestBenchmark(): Promise<void> {
  const base = await baseline();
  const ours = await towline();
  report(`ingest: ${REQUESTS} signed alerts, ${CONCURRENCY} concurrent connections, loopback HTTP`, base, ours, 'requests/s');
}
