import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { WrongExpectedVersion } from '../../src/event-store/event-store.errors';
import { EventStoreDbEventStore } from '../../src/event-store/eventstoredb/eventstoredb.event-store';
import { verifyChain } from '../../src/event-store/hash-chain';
import { callsOf, connectionString, describeSkipped, fakeCall, fakeControl, fakeStats } from './support';

const event = () => ({ id: randomUUID(), type: 'Concurrent', data: { at: Date.now() } });

/** Appends `count` events to one stream with `concurrency` writers, all expecting 'any'. */
async function appendConcurrently(stores: EventStoreDbEventStore[], stream: string, count: number, concurrency: number) {
  let next = 0;
  const conflicts: unknown[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async (_, writer) => {
      while (next < count) {
        next += 1;
        try {
          await stores[writer % stores.length].append(stream, [event()], { expectedRevision: 'any' });
        } catch (error) {
          conflicts.push(error);
        }
      }
    }),
  );
  return conflicts;
}

if (!connectionString) {
  describeSkipped('EventStoreDB: concurrent appends with any');
} else {
  describe('EventStoreDB: concurrent appends with any', () => {
    const store = EventStoreDbEventStore.fromConnectionString(connectionString!);
    const other = EventStoreDbEventStore.fromConnectionString(connectionString!);
    afterAll(async () => {
      await store.close();
      await other.close();
    });

    it('never conflicts within one instance, and the stream stays one verified chain', async () => {
      const stream = `conc-${randomUUID()}`;
      await store.append(stream, [event()]); // the head is known, as on a busy stream
      const figures: Record<number, number> = {};
      for (const concurrency of [1, 50]) {
        const before = await fakeStats();
        const conflicts = await appendConcurrently([store], stream, 100, concurrency);
        const after = await fakeStats();
        if (before && after) figures[concurrency] = (callsOf(after) - callsOf(before)) / 100;
        console.log(`concurrency ${concurrency}: ${conflicts.length} conflicts, ${figures[concurrency]} calls per append`);
        expect(conflicts).toEqual([]);
      }
      const recorded = await store.readStream(stream);
      expect(recorded).toHaveLength(201);
      expect(verifyChain(recorded).ok).toBe(true);
      if (fakeControl) {
        console.log(`server calls per append (against the protocol fake): ${JSON.stringify(figures)} by concurrency`);
        // Queued and batched per stream: one append and one read-back per batch, however many writers wait.
        expect(figures[1]).toBeLessThanOrEqual(2);
        expect(figures[50]).toBeLessThan(1);
      }
    });

    it('retries a lost race with another instance within its bound, then the chain still verifies', async () => {
      const stream = `conc-${randomUUID()}`;
      const conflicts = await appendConcurrently([store, other], stream, 100, 20);
      expect(conflicts.filter((e) => e instanceof WrongExpectedVersion)).toEqual([]);
      const recorded = await store.readStream(stream);
      expect(recorded).toHaveLength(100);
      expect(verifyChain(recorded).ok).toBe(true);
    });

    it.runIf(fakeControl)('appends after the fake reset its counters', async () => {
      await fakeCall('/reset-stats');
      await store.append(`conc-${randomUUID()}`, [event()]);
      expect(callsOf((await fakeStats())!)).toBeGreaterThan(0);
    });
  });
}
