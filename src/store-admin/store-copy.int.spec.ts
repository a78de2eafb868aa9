import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventData } from '../event-store/event-store.port';
import { SqliteEventStore } from '../event-store/sqlite/sqlite.event-store';
import { verifyCopiedStream, withoutCredentials, type CopyMismatch } from './store-copy';
import { verifyStore } from './store-verification';

/**
 * The copy's read-back verification, on two real embedded stores: the "target" is written through the port
 * as the copy writes (same ids, types, data, metadata, exact revisions), then made to differ in one way.
 * The EventStoreDB path is covered end to end by test/e2e/store-copy.eventstoredb.e2e-spec.ts.
 */
describe('verifyCopiedStream', () => {
  let dir: string;
  let source: SqliteEventStore;
  let target: SqliteEventStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'towline-copy-verify-'));
    source = new SqliteEventStore(join(dir, 'source.db'));
    target = new SqliteEventStore(join(dir, 'target.db'));
  });
  afterEach(async () => {
    await source.close();
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const events = (n: number, from = 0): EventData[] =>
    Array.from({ length: n }, (_, i) => ({ id: randomUUID(), type: 'Happened', data: { n: from + i, text: 'é ✓' }, metadata: { actor: 'admin', n: from + i } }));

  /** Appends to the source, then the same events to the target as the copy does; returns what verification reports. */
  async function copyAndVerify(stream: string, written: EventData[], change?: (events: EventData[]) => EventData[]): Promise<CopyMismatch[]> {
    for (let i = 0; i < written.length; i += 100) {
      await source.append(stream, written.slice(i, i + 100), { expectedRevision: i === 0 ? 'no_stream' : BigInt(i - 1) });
    }
    const copied = change ? change(written) : written;
    for (let i = 0; i < copied.length; i += 100) {
      await target.append(stream, copied.slice(i, i + 100), { expectedRevision: i === 0 ? 'no_stream' : BigInt(i - 1) });
    }
    return verifyStreamOf(stream);
  }

  async function verifyStreamOf(stream: string): Promise<CopyMismatch[]> {
    const scan = await verifyStore(source);
    const mismatches: CopyMismatch[] = [];
    await verifyCopiedStream(source, target, stream, scan.streams.get(stream)!, (m) => mismatches.push(m));
    return mismatches;
  }

  it('finds nothing on a faithful copy: the port recomputes exactly the source hashes (across page boundaries)', async () => {
    expect(await copyAndVerify('thing-1', events(1_201))).toEqual([]);
    const [a, b] = [await source.readStream('thing-1'), await target.readStream('thing-1')];
    expect(b.map((e) => e.metadata.hash)).toEqual(a.map((e) => e.metadata.hash));
  });

  it('reports a changed data field, and the hashes that follow from it', async () => {
    const mismatches = await copyAndVerify('thing-1', events(600), (e) => e.map((x, i) => (i === 550 ? { ...x, data: { ...x.data, n: -1 } } : x)));
    expect(mismatches[0]).toEqual({ stream: 'thing-1', revision: '550', field: 'data' });
    expect(mismatches[1]).toMatchObject({ stream: 'thing-1', revision: '550', field: 'hash' });
    // Every later hash chains on the changed one.
    expect(mismatches.filter((m) => m.field === 'hash').map((m) => m.revision)).toEqual(Array.from({ length: 50 }, (_, i) => String(550 + i)));
  });

  it('reports a changed id, type or metadata', async () => {
    const stream = 'thing-2';
    const written = events(3);
    const mismatches = await copyAndVerify(stream, written, (e) => [
      { ...e[0], id: randomUUID() },
      { ...e[1], type: 'Other' },
      { ...e[2], metadata: { actor: 'someone-else' } },
    ]);
    expect(mismatches.map((m) => [m.revision, m.field])).toEqual([
      ['0', 'id'],
      ['0', 'hash'],
      ['1', 'type'],
      ['1', 'hash'],
      ['2', 'hash'],
      ['2', 'metadata'],
    ]);
    expect(mismatches[0]).toMatchObject({ expected: written[0].id });
  });

  it('reports a missing stream, missing events and extra events', async () => {
    await source.append('lonely-1', events(2));
    expect(await verifyStreamOf('lonely-1')).toEqual([{ stream: 'lonely-1', revision: null, field: 'missing_stream' }]);

    const short = await copyAndVerify('short-1', events(5), (e) => e.slice(0, 3));
    expect(short.map((m) => [m.revision, m.field])).toEqual([
      ['3', 'missing_event'],
      ['4', 'missing_event'],
    ]);

    const long = await copyAndVerify('long-1', events(5), (e) => [...e, ...events(2, 5)]);
    expect(long).toEqual([{ stream: 'long-1', revision: '5', field: 'extra_events' }]);
  });

  it('reports a target whose stored chain is broken (edited behind the port)', async () => {
    expect(await copyAndVerify('thing-3', events(4))).toEqual([]);
    const file = new DatabaseSync(join(dir, 'target.db'));
    file.prepare("UPDATE events SET data = ? WHERE stream = 'thing-3' AND revision = 2").run(JSON.stringify({ n: 99 }));
    file.close();
    const mismatches = await verifyStreamOf('thing-3');
    expect(mismatches).toContainEqual({ stream: 'thing-3', revision: '2', field: 'data' });
    expect(mismatches).toContainEqual(expect.objectContaining({ stream: 'thing-3', revision: '2', field: 'chain', actual: expect.stringMatching(/^hash mismatch/) }));
  });
});

describe('withoutCredentials', () => {
  it('leaves the user name and password out of the job view', () => {
    expect(withoutCredentials('esdb://admin:changeit@node1:2113,node2:2113?tls=true')).toBe('esdb://***@node1:2113,node2:2113?tls=true');
    expect(withoutCredentials('esdb://node1:2113?tls=false')).toBe('esdb://node1:2113?tls=false');
    expect(withoutCredentials('esdb+discover://u:p@cluster.dns:2113')).toBe('esdb+discover://***@cluster.dns:2113');
  });
});
