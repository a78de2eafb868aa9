import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore, ExpectedRevision, JsonObject, RecordedEvent } from '../src/event-store/event-store.port';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite.event-store';
import type { Role } from './child';

/**
 * The inbound benchmark's floor: what one signed alert writes to the log — the events of a real alert of the
 * sync run, read back from its store — appended again through the store port alone (`SqliteEventStore`:
 * group commit, expected-revision checks, RFC 8785 + SHA-256 chain, fdatasync), by as many concurrent
 * writers as the load has connections. No HTTP, no signature, no parsing, no read side: the most alerts a
 * second Towline's store takes with that many events per alert, so the sync answer rate cannot pass it.
 */

/** One append of an alert, in the order the alert made them. */
export interface AlertAppend {
  /** `own`: a stream the alert created (its receipt, its incident); `shared`: one that others append to too. */
  stream: { kind: 'own'; category: string } | { kind: 'shared'; name: string };
  events: { type: string; data: JsonObject; metadata: JsonObject }[];
}

/** The events of the last alert the store holds (those of its request's correlation id), as its appends. */
export async function lastAlertAppends(store: EventStore): Promise<AlertAppend[]> {
  const head = await store.headPosition();
  if (!head) throw new Error('The store is empty');
  const after = head.commit > 500n ? { commit: head.commit - 500n, prepare: head.commit - 500n } : undefined;
  const recent = await store.readAll({ after, maxCount: 500 });
  const correlation = recent.findLast((e) => e.type === 'AlertProcessed')?.metadata.$correlationId;
  if (typeof correlation !== 'string') throw new Error('No processed alert among the last 500 events');
  const events = recent.filter((e) => e.metadata.$correlationId === correlation);
  const appends: (AlertAppend & { last: RecordedEvent })[] = [];
  for (const event of events) {
    const { hash: _hash, ...metadata } = event.metadata;
    const entry = { type: event.type, data: event.data, metadata };
    const previous = appends.at(-1);
    // Consecutive events of one stream and one commit were one append.
    if (previous && previous.last.stream === event.stream && previous.last.position.commit + 1n === event.position.commit) {
      previous.events.push(entry);
      previous.last = event;
      continue;
    }
    const first = events.find((e) => e.stream === event.stream);
    const stream: AlertAppend['stream'] =
      first?.revision === 0n ? { kind: 'own', category: event.stream.split('-')[0] } : { kind: 'shared', name: event.stream };
    appends.push({ stream, events: [entry], last: event });
  }
  return appends.map(({ stream, events: e }) => ({ stream, events: e }));
}

export interface FloorReady {
  alerts: number;
  seconds: number;
  cpuMs: number;
}

/** Appends the alert's events for `seconds` (after `warmup`), `writers` alerts at a time, on a fresh store. */
export const storeFloorRole: Role<{ appends: AlertAppend[]; seconds: number; warmup: number; writers: number }, FloorReady> = {
  async start({ appends, seconds, warmup, writers }) {
    const dir = mkdtempSync(join(tmpdir(), 'towline-bench-floor-'));
    const store = new SqliteEventStore(join(dir, 'towline.db'));
    const alert = async () => {
      const own = new Map<string, { stream: string; revision: ExpectedRevision }>();
      for (const append of appends) {
        let stream: string;
        let expectedRevision: ExpectedRevision = 'any';
        if (append.stream.kind === 'shared') stream = append.stream.name;
        else {
          const known = own.get(append.stream.category) ?? { stream: `${append.stream.category}-${randomUUID()}`, revision: 'no_stream' };
          ({ stream, revision: expectedRevision } = known);
          own.set(append.stream.category, known);
        }
        const events = append.events.map((e) => ({ ...e, id: randomUUID() }));
        const { nextExpectedRevision } = await store.append(stream, events, { expectedRevision });
        if (append.stream.kind === 'own') own.set(append.stream.category, { stream, revision: nextExpectedRevision });
      }
    };
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
