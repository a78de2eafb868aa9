import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventData, ExpectedRevision, JsonObject } from '../event-store.port';
import { GENESIS_HASH, verifyChain } from '../hash-chain';
import type { StoredEvent } from './esdb-client';
import {
  NO_POSITION,
  chainEvents,
  isSystemEvent,
  passesFilter,
  retryWindow,
  sameIds,
  satisfiesExpected,
  serverFilter,
  toRecordedEvent,
  type CurrentRevision,
} from './eventstoredb.event-store';

interface VectorEvent {
  id: string;
  type: string;
  data: JsonObject;
  metadata: JsonObject;
  hash: string;
}
const vectors = JSON.parse(readFileSync(join(__dirname, '../../../../shared/vectors/vectors.json'), 'utf8')) as {
  chain: { stream: string; events: VectorEvent[] };
};

const event = (id: string, data: JsonObject = {}, metadata?: JsonObject): EventData => ({
  id,
  type: 'Tested',
  data,
  ...(metadata ? { metadata } : {}),
});

const esdbEvent = (overrides: Partial<StoredEvent> = {}): StoredEvent => ({
  stream: 'alert-1',
  id: '6f1c2b7e-0d3a-4c5e-8f9a-1b2c3d4e5f60',
  isJson: true,
  revision: 3n,
  type: 'AlertReceived',
  created: new Date('2026-01-02T03:04:05Z'),
  data: { severity: 'high' },
  metadata: { hash: 'abc' },
  position: { commit: 120n, prepare: 110n },
  ...overrides,
});

describe('expected revision check', () => {
  const cases: [ExpectedRevision, CurrentRevision, boolean][] = [
    ['any', 'no_stream', true],
    ['any', 4n, true],
    ['no_stream', 'no_stream', true],
    ['no_stream', 0n, false],
    ['stream_exists', 'no_stream', false],
    ['stream_exists', 0n, true],
    [2n, 2n, true],
    [2n, 3n, false],
    [0n, 'no_stream', false],
  ];
  it.each(cases)('expecting %s of a stream at %s is %s', (expected, current, ok) => {
    expect(satisfiesExpected(expected, current)).toBe(ok);
  });
});

describe('recognising a retried append', () => {
  it('looks right after an exact expected revision, even when later events follow the batch', () => {
    expect(retryWindow(4n, 6n, 2)).toEqual({ from: 5n, to: 6n });
    expect(retryWindow(4n, 9n, 2)).toEqual({ from: 5n, to: 6n });
  });

  it('treats no_stream as an expectation of revision -1', () => {
    expect(retryWindow('no_stream', 2n, 3)).toEqual({ from: 0n, to: 2n });
  });

  it('rules a retry out when the stream has too few events after the expected revision', () => {
    expect(retryWindow(4n, 4n, 1)).toBeUndefined();
    expect(retryWindow(4n, 5n, 2)).toBeUndefined();
    expect(retryWindow('no_stream', 'no_stream', 1)).toBeUndefined();
  });

  it('looks at the tail of the stream for any and stream_exists', () => {
    expect(retryWindow('any', 7n, 3)).toEqual({ from: 5n, to: 7n });
    expect(retryWindow('stream_exists', 0n, 1)).toEqual({ from: 0n, to: 0n });
    expect(retryWindow('any', 1n, 3)).toBeUndefined();
    expect(retryWindow('any', 'no_stream', 1)).toBeUndefined();
  });

  it('matches ids in order and regardless of case', () => {
    expect(sameIds(['a1', 'b2'], ['A1', 'b2'])).toBe(true);
    expect(sameIds(['a1', 'b2'], ['b2', 'a1'])).toBe(false);
    expect(sameIds(['a1'], ['a1', 'b2'])).toBe(false);
  });
});

describe('hash chaining', () => {
  it('reproduces the independently computed vector hashes', () => {
    const { stream, events } = vectors.chain;
    const chained = chainEvents(stream, null, events.map(({ id, type, data, metadata }) => ({ id, type, data, metadata })));
    expect(chained.map((e) => e.metadata.hash)).toEqual(events.map((e) => e.hash));
  });

  it('continues a chain from the stream head so the whole stream verifies', () => {
    const first = chainEvents('incident-1', null, [event('00000000-0000-4000-8000-000000000001', { n: 1 })]);
    const head = { revision: 0n, hash: first[0].metadata.hash as string };
    const next = chainEvents('incident-1', head, [
      event('00000000-0000-4000-8000-000000000002', { n: 2 }),
      event('00000000-0000-4000-8000-000000000003', { n: 3 }),
    ]);
    const links = [...first, ...next].map((e, i) => ({ ...e, stream: 'incident-1', revision: BigInt(i) }));
    expect(verifyChain(links)).toEqual({ ok: true, events: 3, head: { revision: 2n, hash: next[1].metadata.hash } });
  });

  it('starts from the genesis hash only at revision 0', () => {
    const alone = chainEvents('incident-1', null, [event('00000000-0000-4000-8000-000000000009')]);
    const later = chainEvents('incident-1', { revision: 4n, hash: GENESIS_HASH }, [
      event('00000000-0000-4000-8000-000000000009'),
    ]);
    expect(later[0].metadata.hash).not.toBe(alone[0].metadata.hash);
  });

  it('replaces a hash smuggled in by the caller and keeps the rest of the metadata', () => {
    const [chained] = chainEvents('incident-1', null, [
      event('00000000-0000-4000-8000-000000000001', {}, { $correlationId: 'c', hash: 'forged' }),
    ]);
    expect(chained.metadata.$correlationId).toBe('c');
    expect(chained.metadata.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(chained.metadata.hash).not.toBe('forged');
  });

  it('hashes ids in lower case, as EventStoreDB will hand them back', () => {
    const [upper] = chainEvents('incident-1', null, [event('6F1C2B7E-0D3A-4C5E-8F9A-1B2C3D4E5F60')]);
    const [lower] = chainEvents('incident-1', null, [event('6f1c2b7e-0d3a-4c5e-8f9a-1b2c3d4e5f60')]);
    expect(upper).toEqual(lower);
  });
});

describe('filters', () => {
  it('always leaves out system streams and system event types', () => {
    expect(isSystemEvent('$stats-127.0.0.1:2113', 'StatsCollected')).toBe(true);
    expect(isSystemEvent('alert-1', '$>')).toBe(true);
    expect(passesFilter(undefined, '$settings', 'Settings')).toBe(false);
    expect(passesFilter({ streamPrefixes: [''] }, '$settings', 'Settings')).toBe(false);
    expect(passesFilter(undefined, 'alert-1', 'AlertReceived')).toBe(true);
  });

  it('requires every given part of the filter to match', () => {
    const filter = { streamPrefixes: ['incident-'], eventTypes: ['IncidentOpened'] };
    expect(passesFilter(filter, 'incident-1', 'IncidentOpened')).toBe(true);
    expect(passesFilter(filter, 'incident-1', 'IncidentClosed')).toBe(false);
    expect(passesFilter(filter, 'alert-1', 'IncidentOpened')).toBe(false);
  });

  it('sends stream prefixes to the server, also when event types are given', () => {
    const filter = serverFilter({ streamPrefixes: ['incident-', 'alert-'], eventTypes: ['IncidentOpened'] });
    expect(filter).toEqual({ on: 'streamName', prefixes: ['incident-', 'alert-'] });
  });

  it('sends event types to the server as prefixes when they are the only part', () => {
    expect(serverFilter({ eventTypes: ['IncidentOpened'] })).toEqual({ on: 'eventType', prefixes: ['IncidentOpened'] });
  });

  it('only excludes system events on the server when there is nothing to filter by', () => {
    for (const filter of [undefined, {}, { streamPrefixes: [] }, { eventTypes: [] }]) {
      expect(serverFilter(filter)).toEqual({ on: 'excludeSystemEvents' });
    }
  });
});

describe('mapping recorded events', () => {
  it('carries stream, revision, id, type, data, metadata, position and creation time over', () => {
    expect(toRecordedEvent(esdbEvent())).toEqual({
      stream: 'alert-1',
      revision: 3n,
      id: '6f1c2b7e-0d3a-4c5e-8f9a-1b2c3d4e5f60',
      type: 'AlertReceived',
      data: { severity: 'high' },
      metadata: { hash: 'abc' },
      position: { commit: 120n, prepare: 110n },
      created: new Date('2026-01-02T03:04:05Z'),
    });
  });

  it('gives an event without metadata an empty object, leaving the missing hash to verification', () => {
    expect(toRecordedEvent(esdbEvent({ metadata: undefined })).metadata).toEqual({});
  });

  it('refuses events that are not JSON objects', () => {
    expect(() => toRecordedEvent(esdbEvent({ data: ['a'] }))).toThrow(/not a JSON object event/);
    expect(() => toRecordedEvent(esdbEvent({ isJson: false, data: new Uint8Array([1]) }))).toThrow(
      /not a JSON object event/,
    );
  });

  it('refuses events without a real position, as servers before 22.6 return on stream reads', () => {
    expect(() => toRecordedEvent(esdbEvent({ position: undefined }))).toThrow(/without a position/);
    expect(() => toRecordedEvent(esdbEvent({ position: { commit: NO_POSITION, prepare: NO_POSITION } }))).toThrow(
      /without a position/,
    );
  });
});
