import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeEventStoreConformance } from '../event-store.conformance';
import { WrongExpectedVersion } from '../event-store.errors';
import { SqliteEventStore } from './sqlite.event-store';

const dir = mkdtempSync(join(tmpdir(), 'towline-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeEventStoreConformance('SQLite in memory', async () => new SqliteEventStore(':memory:'));
describeEventStoreConformance('SQLite file', async () => new SqliteEventStore(join(dir, 'conformance.db')));

const event = (type = 'Thing') => ({ id: randomUUID(), type, data: {} });

describe('SQLite group commit', () => {
  it('writes every append of one event-loop turn in a single transaction', async () => {
    const store = new SqliteEventStore(join(dir, `group-${randomUUID()}.db`));
    const before = store.commits;
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.append(`g-${i % 20}`, [event()])));
    expect(store.commits - before).toBe(1);
    await store.close();
  });

  it('fails only the append whose expectation is wrong, not the rest of its batch', async () => {
    const store = new SqliteEventStore(':memory:');
    await store.append('g-1', [event()]);
    const outcomes = await Promise.allSettled([
      store.append('g-2', [event()]),
      store.append('g-1', [event()], { expectedRevision: 7n }),
      store.append('g-3', [event()]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedVersion);
    expect((await store.readAll()).map((e) => e.stream)).toEqual(['g-1', 'g-2', 'g-3']);
    await store.close();
  });

  it('keeps positions increasing across a restart', async () => {
    const path = join(dir, `positions-${randomUUID()}.db`);
    const store = new SqliteEventStore(path);
    const first = await store.append('p-1', [event()]);
    await store.close();
    const reopened = new SqliteEventStore(path);
    const second = await reopened.append('p-2', [event()]);
    expect(second.position.commit).toBeGreaterThan(first.position.commit);
    await reopened.close();
  });

  it('flushes queued appends on close and refuses appends afterwards', async () => {
    const path = join(dir, `close-${randomUUID()}.db`);
    const store = new SqliteEventStore(path);
    const pending = store.append('c-1', [event()]);
    await store.close();
    await expect(pending).resolves.toMatchObject({ nextExpectedRevision: 0n });
    await expect(store.append('c-1', [event()])).rejects.toThrow(/closed/);
    const reopened = new SqliteEventStore(path);
    expect(await reopened.readStream('c-1')).toHaveLength(1);
    await reopened.close();
  });
});
