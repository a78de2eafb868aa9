import { EventStoreDBClient, binaryEvent } from '@eventstore/db-client';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { comparePositions, type Position, type RecordedEvent } from '../../src/event-store/event-store.port';
import { EventStoreDbEventStore } from '../../src/event-store/eventstoredb/eventstoredb.event-store';
import { normalizeConnectionString } from '../../src/event-store/eventstoredb/esdb-client';
import { connectionString, describeSkipped } from './support';

if (!connectionString) {
  describeSkipped('EventStoreDB: a foreign non-JSON event in $all');
} else {
  describe('EventStoreDB: a foreign non-JSON event in $all (another application on a shared cluster)', () => {
    const store = EventStoreDbEventStore.fromConnectionString(connectionString!);
    // Another application, writing raw bytes through the client as it may on a shared cluster.
    const other = EventStoreDBClient.connectionString(normalizeConnectionString(connectionString!));
    afterAll(async () => {
      await store.close();
      await other.dispose();
    });

    it('is skipped, counted and passed by subscriptions and reads, which go on to the next event', async () => {
      const cat = `foreign${randomUUID().replaceAll('-', '').slice(0, 10)}`;
      const before = await store.headPosition();
      await other.appendToStream(`${cat}-blob`, binaryEvent({ type: 'Thing', data: Buffer.from([0xff, 0x00, 0x13, 0x37]) }));
      await store.append(`${cat}-mine`, [{ id: randomUUID(), type: 'Thing', data: { mine: true } }]);
      const skippedBefore = store.skippedForeignEvents;

      const seen: RecordedEvent[] = [];
      const checkpoints: Position[] = [];
      const errors: unknown[] = [];
      const subscription = store.subscribeToAll(
        { after: before, filter: { streamPrefixes: [`${cat}-`] } },
        {
          onEvent: (e) => void seen.push(e),
          onCheckpoint: (p) => void checkpoints.push(p),
          onError: (e) => void errors.push(e),
        },
      );
      await subscription.caughtUp;
      await subscription.stop();
      expect(errors).toEqual([]);
      expect(seen.map((e) => e.stream)).toEqual([`${cat}-mine`]);
      // The consumer was told the log was read past the foreign event, before the next one.
      expect(checkpoints.length).toBeGreaterThan(0);
      expect(comparePositions(checkpoints[0], seen[0].position)).toBeLessThan(0);

      const filtered = await store.readAll({ after: before, filter: { streamPrefixes: [`${cat}-`] } });
      expect(filtered.map((e) => e.stream)).toEqual([`${cat}-mine`]);
      const typed = await store.readAll({ after: before, filter: { eventTypes: ['Thing'] } });
      expect(typed.map((e) => e.stream)).toContain(`${cat}-mine`);
      expect(typed.map((e) => e.stream)).not.toContain(`${cat}-blob`);
      const unfiltered = await store.readAll({ after: before });
      expect(unfiltered.map((e) => e.stream)).toContain(`${cat}-mine`);
      expect(unfiltered.map((e) => e.stream)).not.toContain(`${cat}-blob`);
      expect(store.skippedForeignEvents).toBeGreaterThan(skippedBefore);
    });
  });
}
