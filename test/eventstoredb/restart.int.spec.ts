import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReadSideRunner } from '../../src/cqrs/read-side.runner';
import { EventStoreDbEventStore } from '../../src/event-store/eventstoredb/eventstoredb.event-store';
import { startTestApp } from '../support/test-app';
import { connectionString, describeSkipped, fakeControl, fakeStats } from './support';

/**
 * Restarts on a store where most of $all is not Towline's (another application on a shared cluster wrote
 * it, or Towline's own consumers do not handle it): a consumer must read only what it has not seen, and
 * the server, not the client, must leave out what no consumer wants. ESDB_RESTART_RECORDS sizes the store
 * (the figures were taken with 40000; CI uses fewer).
 */
const RECORDS = Number(process.env.ESDB_RESTART_RECORDS ?? 4_000);
const MASTER_KEY = 'a'.repeat(64);

async function transferred(): Promise<number> {
  const stats = await fakeStats();
  return stats ? stats.eventsSentByReads + stats.eventsSentBySubscriptions : 0;
}

/** Boots the app on `dataDir`, waits until every consumer is live; returns the time that took and what it read. */
async function boot(dataDir: string): Promise<{ ms: number; events: number; consumers: number }> {
  const before = await transferred();
  const started = Date.now();
  const app = await startTestApp({
    dataDir,
    env: { TW_EVENT_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: connectionString!, TW_MASTER_KEY: MASTER_KEY },
  });
  try {
    const runner = app.app.get(ReadSideRunner);
    const deadline = Date.now() + 120_000;
    while (!runner.status().every((c) => c.state === 'live')) {
      if (Date.now() > deadline) throw new Error(`not live in time: ${JSON.stringify(runner.status())}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { ms: Date.now() - started, events: (await transferred()) - before, consumers: runner.status().length };
  } finally {
    await app.close();
  }
}

if (!connectionString) {
  describeSkipped('EventStoreDB: restart reads only what each consumer has not seen');
} else {
  describe('EventStoreDB: restart reads only what each consumer has not seen', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'towline-esdb-restart-'));
    afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

    it(`gets past ${RECORDS} records no consumer handles without reading them again on restart`, { timeout: 600_000 }, async () => {
      await boot(dataDir);
      // Another application's events, written while Towline was down.
      const store = EventStoreDbEventStore.fromConnectionString(connectionString!);
      const app = randomUUID().slice(0, 8);
      for (let i = 0; i < RECORDS; i += 500) {
        const count = Math.min(500, RECORDS - i);
        await store.append(
          `otherapp${app}-${i}`,
          Array.from({ length: count }, (_, n) => ({ id: randomUUID(), type: 'OtherAppRecorded', data: { n: i + n, text: 'x'.repeat(200) } })),
        );
      }
      await store.close();

      const first = await boot(dataDir);
      const restart = await boot(dataDir);
      const label = fakeControl ? ' (against the protocol fake)' : '';
      console.log(
        `${RECORDS} foreign records, ${first.consumers} consumers${label}: first start past them ${first.events} events transferred, ` +
          `${first.ms} ms to live; restart ${restart.events} events transferred, ${restart.ms} ms to live`,
      );
      if (fakeControl) {
        // Filtered on the server: the foreign records are never sent, not even once for the whole read side.
        expect(first.events).toBeLessThan(RECORDS / 4);
        // Every consumer resumes at its checkpoint, which moved past what it does not handle.
        expect(restart.events).toBeLessThan(500);
      }
    });
  });
}
