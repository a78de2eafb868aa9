import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/config';
import { ReadSideRunner } from '../src/cqrs/read-side.runner';
import { EVENT_STORE, type EventStore } from '../src/event-store/event-store.port';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite.event-store';
import type { Role } from './child';
import { mib, peakRssMib } from './measure';
import { waitForHead, waitForPipeline, waitForQuiet, type CaughtUp } from './read-side';
import { benchEnv } from './replay-store';
import { lastAlertAppends, replayAppends, type LogAppend } from './floors';
import { api, SOURCE_SECRET } from './scenario';

/** The roles the inbound benchmarks start in child processes (child.ts): the baseline server and Towline. */

export interface ServerReady {
  url: string;
}

export interface ProcessStats {
  rssMib: number;
  peakRssMib: number;
  heapUsedMib: number;
  /** CPU time (user + system) the process has used since it started, in ms: per request, it is the cost a busy machine does not distort. */
  cpuMs: number;
  /** Events the read side parked (could not handle), by consumer: a consumer moves past those, so "caught up" alone would hide them. */
  parked?: Record<string, number>;
}

const stats = async (): Promise<ProcessStats> => {
  const cpu = process.cpuUsage();
  return { rssMib: mib(process.memoryUsage().rss), peakRssMib: peakRssMib(), heapUsedMib: mib(process.memoryUsage().heapUsed), cpuMs: (cpu.user + cpu.system) / 1000 };
};

/**
 * The baseline: what any durable webhook receiver must do at least — a plain node:http server that checks
 * the timestamp and the same HMAC in constant time, and inserts the raw body into a node:sqlite file (WAL,
 * synchronous=FULL) with group commit: every insert that arrives in one turn of the event loop shares one
 * transaction, committed at setImmediate, and only then is each request answered 202. So the ratio is the
 * price of everything Towline does beyond a durable, authenticated insert.
 *
 * With `receipt`, the queued floor (floors.ts): the same server, but what it makes durable is the alert's
 * receipt, appended through Towline's store port (the RFC 8785 + SHA-256 chain, the revision check, group
 * commit, fdatasync) as the sync run wrote it — what a queued answer needs at the least, without Towline's
 * framework, parsing, normalization, limits, logging or read side.
 */
export const baselineServer: Role<{ receipt?: LogAppend }, ServerReady> = {
  async start({ receipt }) {
    const dir = mkdtempSync(join(tmpdir(), 'towline-bench-baseline-'));
    const store = receipt ? new SqliteEventStore(join(dir, 'towline.db')) : undefined;
    const db = new DatabaseSync(join(dir, 'baseline.db'));
    db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
      CREATE TABLE alerts (id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, received INTEGER NOT NULL, body TEXT NOT NULL);`);
    const insert = db.prepare('INSERT INTO alerts (source, received, body) VALUES (?, ?, ?)');
    let pending: { source: string; body: Buffer; res: ServerResponse }[] = [];
    let flushing: NodeJS.Immediate | null = null;
    const flush = () => {
      flushing = null;
      const batch = pending;
      pending = [];
      db.exec('BEGIN IMMEDIATE');
      try {
        const now = Date.now();
        for (const { source, body } of batch) insert.run(source, now, body.toString('utf8'));
        db.exec('COMMIT');
      } catch (error) {
        db.exec('ROLLBACK');
        for (const { res } of batch) reply(res, 500, '{"error":"store"}');
        throw error;
      }
      for (const { res } of batch) reply(res, 202, '{"status":"accepted"}');
    };
    const reply = (res: ServerResponse, status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const match = /^\/api\/webhooks\/([a-z0-9._-]+)$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !match) return reply(res, 404, '{"error":"not_found"}');
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const timestamp = String(req.headers['x-webhook-timestamp'] ?? '');
        if (!/^\d{1,15}$/.test(timestamp) || Math.abs(Number(timestamp) - Date.now() / 1000) > 300) return reply(res, 401, '{"error":"timestamp_expired"}');
        const given = Buffer.from(String(req.headers['x-webhook-signature'] ?? '').replace(/^sha256=/, ''), 'hex');
        const expected = createHmac('sha256', SOURCE_SECRET).update(`${timestamp}.`).update(body).digest();
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) return reply(res, 401, '{"error":"invalid_signature"}');
        if (store && receipt) {
          replayAppends(store, [receipt]).then(
            () => reply(res, 202, '{"status":"queued"}'),
            () => reply(res, 500, '{"error":"store"}'),
          );
          return;
        }
        pending.push({ source: match[1], body, res });
        flushing ??= setImmediate(flush);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      ready: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
      handlers: {
        stats,
        stop: async () => {
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
          db.close();
          await store?.close();
          rmSync(dir, { recursive: true, force: true });
        },
      },
    };
  },
};

export interface TowlineOptions {
  /** An existing data directory to start on (a copy: it is deleted at stop); default a fresh temp dir. */
  dataDir?: string;
  source: string;
  mode: 'sync' | 'async';
}

export interface TowlineReady extends ServerReady {
  /** How long the read side took to reach the head of the store after the app had started. */
  startupCatchUp: CaughtUp;
}

/**
 * The real application, as main.ts starts it (createApp + listen on 127.0.0.1), on an embedded store in its
 * own data directory, with one source registered through the API in the default organisation.
 */
export const towlineServer: Role<TowlineOptions, TowlineReady> = {
  async start(options) {
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'towline-bench-inbound-'));
    const app: NestFastifyApplication = await createApp(loadConfig(benchEnv(dataDir)));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const runner = app.get(ReadSideRunner);
    const store = app.get<symbol, EventStore>(EVENT_STORE);
    // On a big store nothing is measured before the read side is where the store is.
    const startupCatchUp = await waitForHead(runner, store, 15 * 60_000);
    if (!startupCatchUp.caughtUp) throw new Error('The read side did not catch up with the store within 15 minutes of starting');
    // A copied store wakes work that is due (SLA clocks that ran out, deliveries to retry, triage to finish):
    // the load is measured once that has settled, on the app at rest, as the growth benchmark compares.
    const settled = await waitForQuiet(store, 2_000, 5 * 60_000);
    if (options.dataDir) console.log(`    settled after the start in ${settled.ms} ms (${settled.events} events written meanwhile)`);
    await api(url).call('POST', '/api/webhooks', { source: options.source, secret: SOURCE_SECRET, mode: options.mode });
    return {
      ready: { url, startupCatchUp },
      handlers: {
        stats: async () => ({
          ...(await stats()),
          parked: Object.fromEntries(runner.status().filter((c) => c.parked > 0).map((c) => [c.name, c.parked])),
        }),
        /** The lag: every consumer at the head of the store (see read-side.ts). */
        caughtUp: ({ timeoutMs }: { timeoutMs: number }) => waitForHead(runner, store, timeoutMs),
        /** The named consumers in order, each up to the head as it is once the one before has finished. */
        pipeline: ({ names, timeoutMs }: { names: string[]; timeoutMs: number }) => waitForPipeline(runner, store, names, timeoutMs),
        /** What the last alert wrote to the log, for the store floor (floors.ts). */
        lastAlert: () => lastAlertAppends(store),
        stop: async () => {
          await app.close();
          rmSync(dataDir, { recursive: true, force: true });
        },
      },
    };
  },
};
