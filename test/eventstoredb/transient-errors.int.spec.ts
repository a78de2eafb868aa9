import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailable, StreamNotFound } from '../../src/event-store/event-store.errors';
import { EventStoreDbEventStore } from '../../src/event-store/eventstoredb/eventstoredb.event-store';
import { verifyChain } from '../../src/event-store/hash-chain';
import { connectionString, describeSkipped, fakeScript, startOwnFake, type OwnFake } from './support';

const event = () => ({ id: randomUUID(), type: 'Transient', data: { at: Date.now() } });

if (!connectionString || !fakeScript) {
  // Elections and stalls are injected through the protocol fake's control port; a real node has none.
  describeSkipped('EventStoreDB: transient cluster errors (needs the protocol fake to inject them)');
} else {
  describe('EventStoreDB: transient cluster errors (against a protocol fake of its own)', () => {
    let fake: OwnFake;
    const stores: EventStoreDbEventStore[] = [];
    const open = (settings = {}) => {
      const store = EventStoreDbEventStore.fromConnectionString(fake.connectionString, settings);
      stores.push(store);
      return store;
    };
    const control = (path: string) => fetch(`${fake.control}${path}`).then((r) => r.text());

    beforeAll(async () => {
      fake = await startOwnFake();
    });
    afterAll(async () => {
      await control('/notleader?ms=0');
      await Promise.all(stores.map((store) => store.close()));
      await fake.stop();
    });

    it('writes and reads through a 1.5 s leader election, each append exactly once', async () => {
      const store = open();
      const streams = Array.from({ length: 5 }, () => `elect-${randomUUID()}`);
      await store.append(streams[0], [event()]);
      await control('/notleader?ms=1500');
      const started = Date.now();
      const outcomes = await Promise.allSettled([
        ...streams.map((s) => store.append(s, [event()])),
        store.readStream(streams[0]),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(Array(6).fill('fulfilled'));
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
      for (const [i, s] of streams.entries()) {
        const recorded = await store.readStream(s);
        expect(recorded).toHaveLength(i === 0 ? 2 : 1);
        expect(verifyChain(recorded).ok).toBe(true);
      }
    });

    it('gives up after its bound with StoreUnavailable, having written nothing', async () => {
      const store = open({ retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 100 } });
      const s = `elect-${randomUUID()}`;
      await control('/notleader?ms=3000');
      const error = await store.append(s, [event()]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailable);
      expect((error as StoreUnavailable).retryAfterSeconds).toBeGreaterThan(0);
      await expect(store.readStream(s)).rejects.toBeInstanceOf(StoreUnavailable);
      await control('/notleader?ms=0');
      await expect(store.readStream(s)).rejects.toBeInstanceOf(StreamNotFound);
    });

    it('writes an append whose first try outlived its deadline exactly once', async () => {
      const store = open({ deadlineMs: 400 });
      const s = `unsure-${randomUUID()}`;
      await store.append(s, [event()]);
      await control('/stall?ms=1200'); // the append below is written by the node only once the stall ends
      const started = Date.now();
      const result = await store.append(s, [event()], { expectedRevision: 'any' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
      expect(result.nextExpectedRevision).toBe(1n);
      const recorded = await store.readStream(s);
      expect(recorded).toHaveLength(2);
      expect(verifyChain(recorded).ok).toBe(true);
    });

    it('gives reads a deadline: a stalled node is reported, not waited on for ever', async () => {
      const store = open({ deadlineMs: 300, retry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 50 } });
      const s = `stall-${randomUUID()}`;
      await store.append(s, [event()]);
      await control('/stall?ms=3000');
      const started = Date.now();
      await expect(store.readStream(s)).rejects.toBeInstanceOf(StoreUnavailable);
      await expect(store.readAll({ filter: { streamPrefixes: ['stall-'] } })).rejects.toBeInstanceOf(StoreUnavailable);
      expect(Date.now() - started).toBeLessThan(2_500);
    });
  });
}
