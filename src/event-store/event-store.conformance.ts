import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_APPEND_SIZE, appendSize } from './append-validation';
import { EventTooLarge, StreamNotFound, WrongExpectedVersion } from './event-store.errors';
import { comparePositions, type EventData, type EventStore, type RecordedEvent } from './event-store.port';
import { verifyChain } from './hash-chain';

/**
 * The one contract every adapter must meet (Emmett's shared `features.ts` pattern). Stream names are unique
 * per test, so the suite also runs against a long-lived EventStoreDB server that holds other data.
 */
export function describeEventStoreConformance(name: string, open: () => Promise<EventStore>): void {
  describe(`event store conformance: ${name}`, () => {
    let store: EventStore;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store?.close();
    });

    /** A category unique to one test, so $all reads can be filtered down to that test's streams. */
    const category = () => `conf${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const stream = (cat = category()) => `${cat}-${randomUUID()}`;
    const event = (type = 'Thing', data: EventData['data'] = {}): EventData => ({
      id: randomUUID(),
      type,
      data,
      metadata: { $correlationId: randomUUID() },
    });
    const collect = async (s: string) => store.readStream(s);

    describe('append', () => {
      it('starts a stream at revision 0 and reports the next expected revision and a position', async () => {
        const s = stream();
        const result = await store.append(s, [event('Created', { n: 1 })], { expectedRevision: 'no_stream' });
        expect(result.nextExpectedRevision).toBe(0n);
        const [recorded] = await collect(s);
        expect(recorded).toMatchObject({ stream: s, revision: 0n, type: 'Created', data: { n: 1 } });
        expect(recorded.position).toEqual(result.position);
        expect(recorded.created).toBeInstanceOf(Date);
      });

      it('writes several events atomically with consecutive revisions', async () => {
        const s = stream();
        const events = [event('A'), event('B'), event('C')];
        const result = await store.append(s, events, { expectedRevision: 'no_stream' });
        expect(result.nextExpectedRevision).toBe(2n);
        const recorded = await collect(s);
        expect(recorded.map((e) => [e.revision, e.id, e.type])).toEqual(events.map((e, i) => [BigInt(i), e.id, e.type]));
      });

      it('writes nothing of a multi-event append whose expectation fails', async () => {
        const s = stream();
        await store.append(s, [event()], { expectedRevision: 'no_stream' });
        await expect(store.append(s, [event(), event()], { expectedRevision: 5n })).rejects.toBeInstanceOf(
          WrongExpectedVersion,
        );
        expect(await collect(s)).toHaveLength(1);
      });

      it('accepts the exact expected revision and refuses a stale one with stream, expected and actual', async () => {
        const s = stream();
        await store.append(s, [event(), event()], { expectedRevision: 'no_stream' });
        expect((await store.append(s, [event()], { expectedRevision: 1n })).nextExpectedRevision).toBe(2n);
        const error = await store.append(s, [event()], { expectedRevision: 1n }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedVersion);
        expect(error).toMatchObject({ stream: s, expected: 1n, actual: 2n });
      });

      it('refuses no_stream on an existing stream and stream_exists on a missing one', async () => {
        const s = stream();
        await expect(store.append(s, [event()], { expectedRevision: 'stream_exists' })).rejects.toMatchObject({
          stream: s,
          expected: 'stream_exists',
          actual: 'no_stream',
        });
        await store.append(s, [event()], { expectedRevision: 'no_stream' });
        await expect(store.append(s, [event()], { expectedRevision: 'no_stream' })).rejects.toMatchObject({
          expected: 'no_stream',
          actual: 0n,
        });
        expect((await store.append(s, [event()], { expectedRevision: 'stream_exists' })).nextExpectedRevision).toBe(1n);
      });

      it('appends with any whatever the stream holds', async () => {
        const s = stream();
        expect((await store.append(s, [event()])).nextExpectedRevision).toBe(0n);
        expect((await store.append(s, [event(), event()], { expectedRevision: 'any' })).nextExpectedRevision).toBe(2n);
      });

      it('treats a retried append with the same ids and expectation as done, without duplicates', async () => {
        const s = stream();
        const first = [event('A'), event('B')];
        const original = await store.append(s, first, { expectedRevision: 'no_stream' });
        expect(await store.append(s, first, { expectedRevision: 'no_stream' })).toEqual(original);

        const second = [event('C')];
        const next = await store.append(s, second, { expectedRevision: 1n });
        await store.append(s, [event('D')], { expectedRevision: 2n });
        expect(await store.append(s, second, { expectedRevision: 1n })).toEqual(next);

        const third = [event('E')];
        const viaAny = await store.append(s, third, { expectedRevision: 'any' });
        expect(await store.append(s, third, { expectedRevision: 'any' })).toEqual(viaAny);
        expect((await collect(s)).map((e) => e.type)).toEqual(['A', 'B', 'C', 'D', 'E']);
      });

      it('lets exactly one of two writers racing on the same expected revision win', async () => {
        const s = stream();
        await store.append(s, [event()], { expectedRevision: 'no_stream' });
        const outcomes = await Promise.allSettled([
          store.append(s, [event('Left')], { expectedRevision: 0n }),
          store.append(s, [event('Right')], { expectedRevision: 0n }),
        ]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        expect(rejected.reason).toBeInstanceOf(WrongExpectedVersion);
        expect(rejected.reason).toMatchObject({ expected: 0n, actual: 1n });
        expect(await collect(s)).toHaveLength(2);
      });

      it('gives each of many concurrent appends to many streams its own revisions, uninterleaved', async () => {
        const cat = category();
        const streams = Array.from({ length: 40 }, () => stream(cat));
        const appends = streams.flatMap((s) =>
          Array.from({ length: 5 }, (_, batch) => ({ s, events: [event(`B${batch}`), event(`B${batch}`)] })),
        );
        const results = await Promise.all(appends.map(({ s, events }) => store.append(s, events)));
        const byStream = new Map<string, RecordedEvent[]>();
        for (const s of streams) {
          const recorded = await collect(s);
          expect(recorded.map((e) => e.revision)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)));
          expect(verifyChain(recorded).ok).toBe(true);
          byStream.set(s, recorded);
        }
        // Each append's result names the revision of its own last event, and its two events sit side by side.
        appends.forEach(({ s, events }, i) => {
          const last = Number(results[i].nextExpectedRevision);
          const recorded = byStream.get(s)!;
          expect([recorded[last - 1].id, recorded[last].id]).toEqual(events.map((e) => e.id));
          expect(recorded[last].position).toEqual(results[i].position);
        });
        const all = await store.readAll({ filter: { streamPrefixes: [`${cat}-`] } });
        expect(all).toHaveLength(400);
      });

      it('refuses an append over the maximum append size before writing anything, typed, and takes one under it', async () => {
        const s = stream();
        const big = event('Big', { blob: 'x'.repeat(DEFAULT_MAX_APPEND_SIZE) });
        const error = await store.append(s, [big]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(EventTooLarge);
        expect(error).toMatchObject({ stream: s, eventType: 'Big', maxAppendSize: DEFAULT_MAX_APPEND_SIZE });
        expect((error as EventTooLarge).size).toBeGreaterThan(DEFAULT_MAX_APPEND_SIZE);
        // Atomic appends are refused whole, even when each event alone would fit.
        const halves = [event('Half', { blob: 'x'.repeat(600_000) }), event('Half', { blob: 'y'.repeat(600_000) })];
        await expect(store.append(s, halves)).rejects.toBeInstanceOf(EventTooLarge);
        await expect(collect(s)).rejects.toBeInstanceOf(StreamNotFound);

        const fits = event('Fits', { blob: 'z'.repeat(DEFAULT_MAX_APPEND_SIZE - 2_000) });
        expect(appendSize([fits])).toBeLessThanOrEqual(DEFAULT_MAX_APPEND_SIZE);
        await store.append(s, [fits], { expectedRevision: 'no_stream' });
        expect((await collect(s)).map((e) => e.type)).toEqual(['Fits']);
      });

      it('writes concurrent appends to one stream that together exceed the maximum append size', async () => {
        const s = stream();
        const appends = Array.from({ length: 4 }, (_, i) => [event(`Part${i}`, { blob: String(i).repeat(400_000) })]);
        await Promise.all(appends.map((events) => store.append(s, events)));
        const recorded = await collect(s);
        expect(recorded.map((e) => e.type).sort()).toEqual(['Part0', 'Part1', 'Part2', 'Part3']);
        expect(verifyChain(recorded).ok).toBe(true);
      });

      it('refuses a caller-supplied hash and a non-uuid event id', async () => {
        const s = stream();
        await expect(store.append(s, [{ ...event(), metadata: { hash: 'f'.repeat(64) } }])).rejects.toThrow(/hash/);
        await expect(store.append(s, [{ ...event(), id: 'not-a-uuid' }])).rejects.toThrow(/uuid/);
        await expect(collect(s)).rejects.toBeInstanceOf(StreamNotFound);
      });
    });

    describe('tamper evidence', () => {
      it('chains the hash of every event across appends so the stream verifies', async () => {
        const s = stream();
        await store.append(s, [event('A', { x: 1 }), event('B', { y: [1, 'two'] })], { expectedRevision: 'no_stream' });
        await store.append(s, [event('C', { nested: { b: 2, a: 1 } })], { expectedRevision: 1n });
        const recorded = await collect(s);
        recorded.forEach((e) => expect(e.metadata.hash).toMatch(/^[0-9a-f]{64}$/));
        expect(verifyChain(recorded)).toMatchObject({ ok: true, events: 3 });
        const tampered = recorded.map((e, i) => (i === 1 ? { ...e, data: { y: [1, 'three'] } } : e));
        expect(verifyChain(tampered)).toMatchObject({ ok: false, revision: 1n });
      });
    });

    describe('readStream', () => {
      it('reads forwards and backwards from a revision with a max count', async () => {
        const s = stream();
        await store.append(s, Array.from({ length: 6 }, (_, i) => event(`E${i}`)), { expectedRevision: 'no_stream' });
        const types = (events: RecordedEvent[]) => events.map((e) => e.type);
        expect(types(await store.readStream(s, { fromRevision: 2n, maxCount: 3 }))).toEqual(['E2', 'E3', 'E4']);
        expect(types(await store.readStream(s, { direction: 'backwards', maxCount: 2 }))).toEqual(['E5', 'E4']);
        expect(types(await store.readStream(s, { direction: 'backwards', fromRevision: 1n }))).toEqual(['E1', 'E0']);
        expect(types(await store.readStream(s, { fromRevision: 'start', maxCount: 1 }))).toEqual(['E0']);
        expect(await store.readStream(s, { fromRevision: 6n })).toEqual([]);
      });

      it('throws StreamNotFound for a stream with no events', async () => {
        const s = stream();
        await expect(store.readStream(s)).rejects.toBeInstanceOf(StreamNotFound);
        await expect(store.readStream(s, { direction: 'backwards' })).rejects.toMatchObject({ stream: s });
      });
    });

    describe('readAll', () => {
      it('reads in global order after an exclusive position, filtered by stream prefix or event type', async () => {
        const cat = category();
        const [a, b] = [stream(cat), stream(cat)];
        await store.append(a, [event('Opened')]);
        await store.append(b, [event('Opened'), event('Closed')]);
        await store.append(a, [event('Closed')]);
        const all = await store.readAll({ filter: { streamPrefixes: [`${cat}-`] } });
        expect(all.map((e) => [e.stream, e.type])).toEqual([
          [a, 'Opened'],
          [b, 'Opened'],
          [b, 'Closed'],
          [a, 'Closed'],
        ]);
        for (let i = 1; i < all.length; i++) expect(comparePositions(all[i - 1].position, all[i].position)).toBe(-1);

        const rest = await store.readAll({ after: all[1].position, filter: { streamPrefixes: [`${cat}-`] } });
        expect(rest.map((e) => e.id)).toEqual(all.slice(2).map((e) => e.id));
        const two = await store.readAll({ maxCount: 2, filter: { streamPrefixes: [`${cat}-`] } });
        expect(two.map((e) => e.id)).toEqual(all.slice(0, 2).map((e) => e.id));

        const closed = await store.readAll({ filter: { streamPrefixes: [`${cat}-`], eventTypes: ['Closed'] } });
        expect(closed.map((e) => e.stream)).toEqual([b, a]);
      });

      it('lets a prefix containing an underscore match only literally', async () => {
        const cat = category();
        await store.append(`${cat}x-1`, [event()]);
        await store.append(`${cat}_-1`, [event()]);
        const found = await store.readAll({ filter: { streamPrefixes: [`${cat}_-`] } });
        expect(found.map((e) => e.stream)).toEqual([`${cat}_-1`]);
      });
    });

    describe('headPosition', () => {
      it('is the position of the last appended event, and moves with every append', async () => {
        const first = await store.append(stream(), [event()]);
        expect(comparePositions((await store.headPosition())!, first.position)).toBeGreaterThanOrEqual(0);
        const second = await store.append(stream(), [event(), event()]);
        const head = (await store.headPosition())!;
        expect(comparePositions(head, second.position)).toBeGreaterThanOrEqual(0);
        expect(comparePositions(head, first.position)).toBeGreaterThan(0);
        // What $all shows ends at or before the head: nothing readable lies beyond it.
        expect(await store.readAll({ after: head })).toEqual([]);
      });
    });

    describe('subscribeToAll', () => {
      it('delivers stored events, catches up, then delivers live ones in order', async () => {
        const cat = category();
        const s = stream(cat);
        await store.append(s, [event('Before1'), event('Before2')]);
        const seen: string[] = [];
        let caughtUpCalls = 0;
        const subscription = store.subscribeToAll(
          { filter: { streamPrefixes: [`${cat}-`] } },
          { onEvent: (e) => void seen.push(e.type), onCaughtUp: () => void (caughtUpCalls += 1) },
        );
        await subscription.caughtUp;
        expect(subscription.live).toBe(true);
        expect(seen).toEqual(['Before1', 'Before2']);
        await store.append(s, [event('Live1')]);
        await store.append(stream(cat), [event('Live2')]);
        await until(() => seen.length === 4);
        expect(seen).toEqual(['Before1', 'Before2', 'Live1', 'Live2']);
        expect(caughtUpCalls).toBeGreaterThanOrEqual(1);
        await subscription.stop();
      });

      it('filters by event type', async () => {
        const cat = category();
        const s = stream(cat);
        await store.append(s, [event('Keep'), event('Skip'), event('Keep')]);
        const seen: bigint[] = [];
        const subscription = store.subscribeToAll(
          { filter: { streamPrefixes: [`${cat}-`], eventTypes: ['Keep'] } },
          { onEvent: (e) => void seen.push(e.revision) },
        );
        await subscription.caughtUp;
        expect(seen).toEqual([0n, 2n]);
        await subscription.stop();
      });

      it('resumes from a checkpoint without gaps or repeats', async () => {
        const cat = category();
        const s = stream(cat);
        await store.append(s, Array.from({ length: 5 }, (_, i) => event(`E${i}`)));
        const seen: string[] = [];
        let checkpoint: RecordedEvent['position'] | undefined;
        const first = store.subscribeToAll(
          { filter: { streamPrefixes: [`${cat}-`] } },
          {
            onEvent: (e) => {
              seen.push(e.type);
              checkpoint = e.position;
            },
          },
        );
        await first.caughtUp;
        await first.stop();
        await store.append(s, [event('E5'), event('E6')]);
        const second = store.subscribeToAll(
          { after: checkpoint, filter: { streamPrefixes: [`${cat}-`] } },
          { onEvent: (e) => void seen.push(e.type) },
        );
        await second.caughtUp;
        await store.append(s, [event('E7')]);
        await until(() => seen.length === 8);
        await second.stop();
        expect(seen).toEqual(['E0', 'E1', 'E2', 'E3', 'E4', 'E5', 'E6', 'E7']);
      });

      it('waits for each handler before handing over the next event', async () => {
        const cat = category();
        await store.append(stream(cat), [event('A'), event('B'), event('C')]);
        let inFlight = 0;
        let maxInFlight = 0;
        const subscription = store.subscribeToAll(
          { filter: { streamPrefixes: [`${cat}-`] } },
          {
            onEvent: async () => {
              inFlight += 1;
              maxInFlight = Math.max(maxInFlight, inFlight);
              await new Promise((r) => setTimeout(r, 5));
              inFlight -= 1;
            },
          },
        );
        await subscription.caughtUp;
        await subscription.stop();
        expect(maxInFlight).toBe(1);
      });

      it('reports a failing handler through onError and stops', async () => {
        const cat = category();
        await store.append(stream(cat), [event('Boom'), event('Never')]);
        const errors: unknown[] = [];
        const seen: string[] = [];
        const subscription = store.subscribeToAll(
          { filter: { streamPrefixes: [`${cat}-`] } },
          {
            onEvent: (e) => {
              seen.push(e.type);
              throw new Error('handler failed');
            },
            onError: (error) => void errors.push(error),
          },
        );
        await until(() => errors.length === 1);
        await subscription.stop();
        expect(seen).toEqual(['Boom']);
      });
    });

    it('answers ping while open', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('Condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
