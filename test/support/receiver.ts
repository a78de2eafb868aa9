import { spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A webhook receiver for the tests: a real HTTP server on 127.0.0.1 that records every request (raw body,
 * headers, arrival time) and answers as the test says. It is the other side of the wire, written with
 * node:http only — none of Towline's code.
 */
export interface ReceivedRequest {
  index: number;
  method: string;
  path: string;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: Buffer;
  /** Date.now() when the request's body had arrived. */
  at: number;
  json(): any;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering. */
  delayMs?: number;
}

export type Responder = (request: ReceivedRequest) => Reply | Promise<Reply>;

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  /** The most requests carrying one X-Towline-Delivery that were in progress at the same time. */
  maxConcurrentPerDelivery(): number;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startReceiver(respond: Responder = () => ({ status: 200 })): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const inFlight = new Map<string, number>();
  let maxConcurrent = 0;
  const waiters = new Set<() => void>();

  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : (v ?? '')]));
      const request: ReceivedRequest = {
        index: requests.length,
        method: req.method ?? '',
        path: req.url ?? '',
        headers,
        body,
        at: Date.now(),
        json: () => JSON.parse(body.toString('utf8')),
      };
      requests.push(request);
      const delivery = headers['x-towline-delivery'] ?? '';
      inFlight.set(delivery, (inFlight.get(delivery) ?? 0) + 1);
      maxConcurrent = Math.max(maxConcurrent, inFlight.get(delivery)!);
      waiters.forEach((wake) => wake());
      void Promise.resolve(respond(request))
        .then(async (reply) => {
          if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
          res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
          res.end(reply.body ?? '{"ok":true}');
        })
        .catch(() => {
          res.writeHead(500);
          res.end();
        })
        .finally(() => inFlight.set(delivery, inFlight.get(delivery)! - 1));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    maxConcurrentPerDelivery: () => maxConcurrent,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < count) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new Error(`Receiver got ${requests.length} requests, expected ${count} within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, remaining);
          waiters.add(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        waiters.clear();
      }
      return requests.slice(0, count);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The seed's verify(), verbatim, run by python3: the receiver's side of the `sha256=` signature. */
const SEED_VERIFY = `
import hmac, hashlib

def verify(body: bytes, secret: str, signature: str) -> bool:
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    received = signature.removeprefix("sha256=")
    return hmac.compare_digest(expected, received)

import sys
sys.exit(0 if verify(sys.stdin.buffer.read(), sys.argv[1], sys.argv[2]) else 1)
`;

export function pythonVerify(body: Buffer, secret: string, signature: string): boolean {
  const result = spawnSync('python3', ['-c', SEED_VERIFY, secret, signature], { input: body });
  if (result.status !== 0 && result.status !== 1) throw new Error(`python3 failed: ${result.stderr?.toString()}`);
  return result.status === 0;
}

/** Polls until `check` returns a value that is not undefined/false, or fails after timeoutMs. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** What lets Towline post to these receivers: loopback allowlisted, plain http, and short, unjittered retries. */
export const RECEIVER_ENV: Record<string, string> = {
  TW_WEBHOOK_ALLOW_CIDRS: '127.0.0.0/8',
  TW_ALLOW_INSECURE_WEBHOOKS: 'true',
  TW_DELIVERY_RETRY_SCHEDULE: '200ms,400ms,800ms',
  TW_DELIVERY_RETRY_JITTER: 'none',
  TW_DELIVERY_TIMEOUT: '3s',
};
