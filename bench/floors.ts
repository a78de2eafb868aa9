import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore, ExpectedRevision, JsonObject, RecordedEvent } from '../src/event-store/event-store.port';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite.event-store';
import type { Role } from './child';

/**
 * The benchmarks' floors: how fast the parts Towline cannot do without go on their own, so that a ratio can
 * be read against what is possible at all with them on this machine (the queued one is the baseline server
 * of inbound-servers.ts appending a receipt, the outbound one is in outbound.bench.ts).
 *
 * The store floor: what one signed alert writes to the log — the events of a real alert of the
 * sync run, read back from its store — appended again through the store port alone (`SqliteEventStore`:
 * group commit, expected-revision checks, RFC 8785 + SHA-256 chain, fdatasync), by as many concurrent
 * writers as the load has connections. No HTTP, no signature, no parsing, no read side: the most alerts a
 * second Towline's store takes with that many events per alert, so the sync answer rate cannot pass it.
 */

/** One append, as some unit of work (an alert, a delivery) made it. */
export interface LogAppend {
  /**
   * `own`: a stream the unit created (its receipt, its incident, its delivery), replayed on a fresh stream of
   * the same category, one per `key`; `shared`: one that others append to too (number claims, an
   * organisation's security events), replayed on that same stream.
   */
  stream: { kind: 'own'; key: string; category: string } | { kind: 'shared'; name: string };
  events: { type: string; data: JsonObject; metadata: JsonObject }[];
}

/** Recorded events (in log order) as the appends that wrote them: consecutive events of a stream are one. */
export function appendsOf(events: RecordedEvent[]): LogAppend[] {
  const appends: (LogAppend & { last: RecordedEvent })[] = [];
  for (const event of events) {
    const { hash: _hash, ...metadata } = event.metadata;
    const entry = { type: event.type, data: event.data, metadata };
    const previous = appends.at(-1);
    if (previous && previous.last.stream === event.stream && previous.last.position.commit + 1n === event.position.commit) {
      previous.events.push(entry);
      previous.last = event;
      continue;
    }
    const created = events.find((e) => e.stream === event.stream)?.revision === 0n;
    const stream: LogAppend['stream'] = created ? { kind: 'own', key: event.stream, category: event.stream.split('-')[0] } : { kind: 'shared', name: event.stream };
    appends.push({ stream, events: [entry], last: event });
  }
  return appends.map(({ stream, events: e }) => ({ stream, events: e }));
}

/**
 * Appends `appends` again through `store` with fresh event ids; `own` maps the unit's own streams to their
 * fresh names and revisions, so that one unit's later appends follow its earlier ones.
 */
export async function replayAppends(store: EventStore, appends: LogAppend[], own = new Map<string, { stream: string; revision: ExpectedRevision }>()): Promise<void> {
  for (const append of appends) {
    let stream: string;
    let expectedRevision: ExpectedRevision = 'any';
    if (append.stream.kind === 'shared') stream = append.stream.name;
    else ({ stream, revision: expectedRevision } = own.get(append.stream.key) ?? { stream: `${append.stream.category}-${randomUUID()}`, revision: 'no_stream' });
    const { nextExpectedRevision } = await store.append(stream, append.events.map((e) => ({ ...e, id: randomUUID() })), { expectedRevision });
    if (append.stream.kind === 'own') own.set(append.stream.key, { stream, revision: nextExpectedRevision });
  }
}

/** The last `count` events of the store, oldest first. */
export async function lastEvents(store: EventStore, count: number): Promise<RecordedEvent[]> {
  const head = await store.headPosition();
  if (!head) throw new Error('The store is empty');
  const after = head.commit > BigInt(count) ? { commit: head.commit - BigInt(count), prepare: head.commit - BigInt(count) } : undefined;
  return store.readAll({ after, maxCount: count });
}

/** The events of the last alert the store holds (those of its request's correlation id), as its appends. */
export async function lastAlertAppends(store: EventStore): Promise<LogAppend[]> {
  const recent = await lastEvents(store, 500);
  const correlation = recent.findLast((e) => e.type === 'AlertProcessed')?.metadata.$correlationId;
  if (typeof correlation !== 'string') throw new Error('No processed alert among the last 500 events');
  return appendsOf(recent.filter((e) => e.metadata.$correlationId === correlation));
}

/**
 * What one published security event wrote (its record: the first in the log, all alike here) and what the
 * last delivery to succeed wrote (scheduled, then attempted and succeeded).
 */
export async function lastDeliveryAppends(store: EventStore): Promise<{ event: LogAppend[]; delivery: LogAppend[] }> {
  const [recorded] = await store.readAll({ filter: { eventTypes: ['SecurityEventRecorded'] }, maxCount: 1 });
  const succeeded = (await lastEvents(store, 500)).findLast((e) => e.type === 'DeliverySucceeded');
  if (!recorded || !succeeded) throw new Error('No delivered security event in the store');
  return { event: appendsOf([recorded]), delivery: appendsOf(await store.readStream(succeeded.stream)) };
}

export interface FloorReady {
  alerts: number;
  seconds: number;
  cpuMs: number;
}

/** Appends the alert's events for `seconds` (after `warmup`), `writers` alerts at a time, on a fresh store. */
export const storeFloorRole: Role<{ appends: LogAppend[]; seconds: number; warmup: number; writers: number }, FloorReady> = {
  async start({ appends, seconds, warmup, writers }) {
    const dir = mkdtempSync(join(tmpdir(), 'towline-bench-floor-'));
    const store = new SqliteEventStore(join(dir, 'towline.db'));
    const alert = () => replayAppends(store, appends);
    const run = async (forSeconds: number) => {
      const until = Date.now() + forSeconds * 1000;
      let alerts = 0;
      const started = Date.now();
      const cpu = process.cpuUsage();
      await Promise.all(
        Array.from({ length: writers }, async () => {
          while (Date.now() < until) {
            await alert();
            alerts += 1;
          }
        }),
      );
      const used = process.cpuUsage(cpu);
      return { alerts, seconds: (Date.now() - started) / 1000, cpuMs: (used.user + used.system) / 1000 };
    };
    try {
      await run(warmup);
      const measured = await run(seconds);
      return { ready: measured, handlers: {} };
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
