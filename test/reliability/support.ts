import { verifyChain } from '../../src/event-store/hash-chain';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite.event-store';
import { ADMIN_KEY } from '../support/test-app';

/**
 * The limits every server of this suite runs with, set explicitly (not the instance defaults) and printed:
 * a flood must measure durability, not the rate limiter, yet go through the limiter's code. High enough that
 * nothing here reaches them.
 */
export const RELIABILITY_LIMITS: Record<string, string> = {
  TW_WEBHOOK_RATE_LIMIT: '10000000',
  TW_API_RATE_LIMIT: '10000000',
  TW_RATE_LIMIT_WINDOW: '1m',
  TW_WEBHOOK_MAX_ALERTS: '500',
  TW_HEADERS_TIMEOUT: '5s',
  TW_REQUEST_TIMEOUT: '10s',
};

/** One line per figure set, so CI's log shows what each loop did: `[reliability] name: key=value …`. */
export function report(name: string, figures: Record<string, unknown>): void {
  const text = Object.entries(figures)
    .map(([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
    .join(' ');
  console.log(`[reliability] ${name}: ${text}`);
}

export const auth = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };

export async function api(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url + path, { method, headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Polls `check` every `everyMs` until it returns something truthy; fails after `timeoutMs` (every wait here is bounded). */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The read side is live, nothing is stuck and nothing parked: `/health/ready` 200 and `/health` parked 0. */
export async function expectHealthy(url: string, timeoutMs = 30_000): Promise<{ ready: any; health: any }> {
  const ready = await waitUntil(
    '/health/ready to answer 200',
    async () => {
      const response = await fetch(`${url}/health/ready`);
      return response.status === 200 && ((await response.json()) as any);
    },
    timeoutMs,
  );
  const health = (await (await fetch(`${url}/health`)).json()) as any;
  if (health.parked !== 0) throw new Error(`Parked events: ${JSON.stringify(health)}`);
  if (health.status !== 'ok') throw new Error(`/health is ${health.status}: ${JSON.stringify(health)}`);
  return { ready, health };
}

/** Verifies the hash chain of every stream of a closed embedded store; returns the streams and events checked. */
export async function verifyStore(path: string): Promise<{ streams: number; events: number }> {
  const store = new SqliteEventStore(path);
  try {
    const all = await store.readAll();
    const streams = new Set(all.map((e) => e.stream));
    for (const stream of streams) {
      const verdict = verifyChain(await store.readStream(stream));
      if (!verdict.ok) throw new Error(`Hash chain of ${stream} does not verify at revision ${verdict.revision}: ${verdict.reason}`);
    }
    return { streams: streams.size, events: all.length };
  } finally {
    await store.close();
  }
}
