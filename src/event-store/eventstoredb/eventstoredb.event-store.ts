import { Logger } from '@nestjs/common';
import { EventTooLarge, StoreUnavailable, StreamNotFound, WrongExpectedVersion } from '../event-store.errors';
import {
  comparePositions,
  matchesFilter,
  type AppendOptions,
  type AppendResult,
  type EventData,
  type EventFilter,
  type EventStore,
  type EventStoreOptions,
  type ExpectedRevision,
  type JsonObject,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionHandler,
} from '../event-store.port';
import { DEFAULT_MAX_APPEND_SIZE, validateAppend } from '../append-validation';
import { GENESIS_HASH, chainHash, withoutHash } from '../hash-chain';
import {
  EsdbClient,
  RevisionConflict,
  ServerAppendTooLarge,
  TransientStoreError,
  type AllSubscription,
  type ServerFilter,
  type StoredEvent,
} from './esdb-client';

/**
 * How often an append re-reads the head after losing a race to another instance (within one instance appends
 * to a stream are queued, so they never race). Each loss means another writer made progress, so this only
 * bounds pathological contention on one stream.
 */
export const MAX_APPEND_ATTEMPTS = 20;

/** $all is read in pages so that an unfiltered read never holds more than this in memory. */
export const READ_ALL_PAGE_SIZE = 500;

/** Streams whose head (revision, hash, id) is remembered after this instance read or wrote it. */
const HEAD_CACHE_SIZE = 10_000;

/** Events of one server append at most, beside the size bound: queued appends to one stream are batched. */
const MAX_BATCH_EVENTS = 1_000;

export interface RetrySettings {
  /** Tries of a call that fails transiently (no leader, unavailable, deadline exceeded), the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface EventStoreDbSettings extends EventStoreOptions {
  /** Deadline of each read and append call; a subscription's reads must show progress this often. */
  deadlineMs?: number;
  retry?: RetrySettings;
}

/**
 * 100 ms doubling up to 2 s, eight tries: about 7 s in all, longer than a typical leader election (the
 * election timeout is 1 s, a few rounds at most), short enough for a request that waits on it.
 */
export const DEFAULT_RETRY: RetrySettings = { attempts: 8, baseDelayMs: 100, maxDelayMs: 2_000 };
const DEFAULT_DEADLINE_MS = 10_000;
const DISPOSE_WAIT_MS = 2_000;

export type CurrentRevision = bigint | 'no_stream';

/** The last event of a stream: what the next event's revision and hash chain on. */
export interface StreamHead {
  revision: bigint;
  hash: string;
}

interface KnownHead extends StreamHead {
  id: string;
}

/** Would a stream at `current` accept a write that expects `expected`? */
export function satisfiesExpected(expected: ExpectedRevision, current: CurrentRevision): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return current === 'no_stream';
    case 'stream_exists':
      return current !== 'no_stream';
    default:
      return current === expected;
  }
}

/**
 * Where a retry of a `count`-event append would find its own events if the first attempt was written, or
 * undefined when the stream's state rules that out. With an exact expectation the batch sits right after the
 * expected revision (later events may follow it); with 'any' / 'stream_exists' there is no anchor, so only
 * the stream's tail can be recognised — a batch followed by other writes is appended again, as on
 * EventStoreDB itself, which only guarantees idempotency for exact expectations.
 */
export function retryWindow(
  expected: ExpectedRevision,
  current: CurrentRevision,
  count: number,
): { from: bigint; to: bigint } | undefined {
  if (current === 'no_stream' || count === 0) return undefined;
  const size = BigInt(count);
  if (expected === 'any' || expected === 'stream_exists') {
    const from = current - size + 1n;
    return from >= 0n ? { from, to: current } : undefined;
  }
  const before = expected === 'no_stream' ? -1n : expected;
  return current - before >= size ? { from: before + 1n, to: before + size } : undefined;
}

/** EventStoreDB hands ids back in lower case, so ids are compared (and hashed) that way. */
export function sameIds(recorded: readonly string[], given: readonly string[]): boolean {
  return recorded.length === given.length && recorded.every((id, i) => id.toLowerCase() === given[i].toLowerCase());
}

export interface ChainedEvent {
  id: string;
  type: string;
  data: JsonObject;
  /** The caller's metadata with the port's `hash` set. */
  metadata: JsonObject;
}

/**
 * Gives each event the `hash` that links it to its predecessor. The hash covers the revision, so it can only
 * be computed against a known head, and the append must then insist on that exact head. Ids are lowered
 * because EventStoreDB returns UUIDs in lower case: hashing the id as the caller spelt it would make the
 * stored chain fail verification. A `hash` set by the caller is replaced, never trusted.
 */
export function chainEvents(stream: string, head: StreamHead | null, events: readonly EventData[]): ChainedEvent[] {
  let prev = head?.hash ?? GENESIS_HASH;
  let revision = head ? head.revision + 1n : 0n;
  return events.map((event) => {
    const id = event.id.toLowerCase();
    const metadata = withoutHash(event.metadata ?? {});
    const hash = chainHash(prev, { stream, revision, id, type: event.type, data: event.data, metadata });
    prev = hash;
    revision += 1n;
    return { id, type: event.type, data: event.data, metadata: { ...metadata, hash } };
  });
}

/** EventStoreDB's own events ($statsCollected, $> links, $settings, …) are never Towline's business. */
export function isSystemEvent(stream: string, type: string): boolean {
  return stream.startsWith('$') || type.startsWith('$');
}

export function passesFilter(filter: EventFilter | undefined, stream: string, type: string): boolean {
  return !isSystemEvent(stream, type) && matchesFilter(filter, stream, type);
}

/**
 * The server-side part of a filter; `passesFilter` is always applied to what arrives as well. EventStoreDB
 * filters on one thing only, so with both parts the stream prefixes go to the server and the types are
 * checked here. Types are sent as prefixes rather than a regex: it over-selects slightly ('Alert' also lets
 * 'AlertClosed' through, which the client check then drops) but needs no escaping between JavaScript and
 * .NET regex dialects. An empty list matches nothing, which no server filter can say, so it falls back to
 * excluding system events and lets the client check drop the rest.
 */
export function serverFilter(filter: EventFilter | undefined): ServerFilter {
  if (filter?.streamPrefixes?.length) return { on: 'streamName', prefixes: filter.streamPrefixes };
  if (filter?.eventTypes?.length) return { on: 'eventType', prefixes: filter.eventTypes };
  return { on: 'excludeSystemEvents' };
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** Written as Towline writes: JSON object data. Anything else in $all is another application's. */
export function isJsonObjectEvent(event: StoredEvent): boolean {
  return event.isJson && isJsonObject(event.data);
}

/** What servers before 22.6 put in the position fields of events read from a stream (-1 as a uint64). */
export const NO_POSITION = 2n ** 64n - 1n;

/**
 * Maps the client's event to the port's. Positions on stream reads only exist from EventStoreDB 22.6 on,
 * and the port promises them, so an older server is refused here rather than given made-up positions.
 * Missing metadata becomes {} instead of an error: chain verification is where a missing hash is reported.
 */
export function toRecordedEvent(event: StoredEvent): RecordedEvent {
  if (!isJsonObjectEvent(event)) {
    throw new Error(`Event ${event.id} in stream '${event.stream}' is not a JSON object event`);
  }
  if (!event.position || event.position.commit === NO_POSITION || event.position.prepare === NO_POSITION) {
    throw new Error(`EventStoreDB returned event ${event.id} without a position; Towline needs EventStoreDB 22.10 or later`);
  }
  return {
    stream: event.stream,
    revision: event.revision,
    id: event.id,
    type: event.type,
    data: event.data as JsonObject,
    metadata: isJsonObject(event.metadata) ? event.metadata : {},
    position: { commit: event.position.commit, prepare: event.position.prepare },
    created: event.created,
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** For failures that have already been reported elsewhere, or that only echo our own cancellation. */
function ignore(): void {}

/** A request of a batch being written: its events chained, or the same append as an earlier one of the batch. */
interface Accepted {
  request: QueuedAppend;
  chained: ChainedEvent[];
  twinOf?: number;
}

/** One caller's append, waiting in its stream's queue. */
interface QueuedAppend {
  events: EventData[];
  expected: ExpectedRevision;
  size: number;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/**
 * The EventStoreDB adapter. Appends are queued per stream and the queue is written in batches: every append
 * that arrives while the stream's previous write is in flight goes into the next one — one server append and
 * one read-back for all of them, each still judged on its own expectation. The stream's head is remembered
 * after each write, so a busy stream is not re-read before every append, and 'any' never conflicts within
 * one instance. Losing a race to another instance costs a re-read of the head and another try, bounded.
 * Transient cluster errors are retried within a bound, then reported as StoreUnavailable.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly logger = new Logger('EventStoreDB');
  private readonly queues = new Map<string, QueuedAppend[]>();
  private readonly draining = new Map<string, Promise<void>>();
  private readonly heads = new Map<string, KnownHead>();
  private readonly subscriptions = new Set<CatchUpSubscription>();
  readonly maxAppendSize: number;
  readonly deadlineMs: number;
  readonly retry: RetrySettings;
  /** Events in $all that are not JSON objects (another application's on a shared cluster), skipped by readers. */
  skippedForeignEvents = 0;

  constructor(
    readonly client: EsdbClient,
    settings: EventStoreDbSettings = {},
  ) {
    this.maxAppendSize = settings.maxAppendSize ?? DEFAULT_MAX_APPEND_SIZE;
    this.deadlineMs = settings.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.retry = settings.retry ?? DEFAULT_RETRY;
  }

  static fromConnectionString(connectionString: string, settings: EventStoreDbSettings = {}): EventStoreDbEventStore {
    return new EventStoreDbEventStore(EsdbClient.connect(connectionString), settings);
  }

  append(stream: string, events: EventData[], options: AppendOptions = {}): Promise<AppendResult> {
    let size: number;
    try {
      size = validateAppend(stream, events, this.maxAppendSize);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      const queued: QueuedAppend = { events, expected: options.expectedRevision ?? 'any', size, resolve, reject };
      const queue = this.queues.get(stream);
      if (queue) queue.push(queued);
      else this.queues.set(stream, [queued]);
      if (!this.draining.has(stream)) {
        const drain = this.drain(stream).finally(() => this.draining.delete(stream));
        this.draining.set(stream, drain);
      }
    });
  }

  /** Writes a stream's queue batch by batch, each batch under the maximum append size, until it is empty. */
  private async drain(stream: string): Promise<void> {
    for (;;) {
      const queue = this.queues.get(stream);
      if (!queue || queue.length === 0) {
        this.queues.delete(stream);
        return;
      }
      let size = 0;
      let events = 0;
      let take = 0;
      while (
        take < queue.length &&
        (take === 0 || (size + queue[take].size <= this.maxAppendSize && events + queue[take].events.length <= MAX_BATCH_EVENTS))
      ) {
        size += queue[take].size;
        events += queue[take].events.length;
        take += 1;
      }
      const batch = queue.splice(0, take);
      try {
        await this.writeBatch(stream, batch);
      } catch (error) {
        for (const request of batch) request.reject(error);
      }
    }
  }

  /**
   * The hash of each event depends on its revision, so the write is made conditional on exactly the head it
   * was chained onto: if another writer got in between, EventStoreDB refuses it and the chain is never
   * forked. Each request is judged against the head as the requests before it in the batch leave it: one
   * whose expectation fails is refused alone (after making sure the head it was judged on is not a stale
   * memory), one that is a retry of an append already written gets that append's result.
   */
  private async writeBatch(stream: string, batch: QueuedAppend[]): Promise<void> {
    let pending = batch;
    let lastConflict: bigint | 'no_stream' = 'no_stream';
    /** Set after a write whose outcome is unknown (a deadline, a dropped connection): it may have been written. */
    let unsure: { after: bigint | 'no_stream'; ids: string[] } | undefined;
    let transientFailures = 0;
    let distrustCache = false;
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS && pending.length > 0; attempt += 1) {
      try {
        const cached = distrustCache ? undefined : this.heads.get(stream);
        const head = cached ?? (await this.readHead(stream));
        distrustCache = false;
        if (unsure && (await this.settleUnsure(stream, pending, unsure))) return;
        unsure = undefined;

        let current: KnownHead | null = head;
        const accepted: Accepted[] = [];
        let stale = false;
        for (const request of pending) {
          const revision: CurrentRevision = current?.revision ?? 'no_stream';
          const ids = request.events.map((e) => e.id);
          const twin = accepted.findIndex((a) => sameIds(a.request.events.map((e) => e.id), ids));
          if (twin >= 0) {
            // The same append twice in one batch (a caller retrying while its first try waited): written once.
            accepted.push({ request, chained: [], twinOf: twin });
            continue;
          }
          if (accepted.length === 0) {
            const retried = await this.findRetriedAppend(stream, request.events, request.expected, current);
            if (retried) {
              request.resolve(retried);
              continue;
            }
          }
          if (!satisfiesExpected(request.expected, revision)) {
            if (cached) {
              stale = true; // judged on a remembered head: read the real one before refusing anything
              break;
            }
            request.reject(new WrongExpectedVersion(stream, request.expected, revision));
            continue;
          }
          const chained = chainEvents(stream, current, request.events);
          const last = chained[chained.length - 1];
          current = { revision: (current ? current.revision : -1n) + BigInt(chained.length), hash: last.metadata.hash as string, id: last.id };
          accepted.push({ request, chained });
        }
        if (stale) {
          distrustCache = true;
          continue;
        }
        pending = [];
        if (accepted.length === 0) return;

        const events = accepted.flatMap((a) => a.chained);
        const expected = head ? head.revision : 'no_stream';
        try {
          await this.client.append(stream, events, expected, this.deadlineMs);
        } catch (error) {
          this.heads.delete(stream);
          pending = accepted.map((a) => a.request);
          if (error instanceof RevisionConflict) {
            lastConflict = error.actual;
            continue;
          }
          if (error instanceof TransientStoreError) unsure = { after: expected, ids: events.map((e) => e.id) };
          throw error;
        }
        this.remember(stream, current!);
        await this.settleWritten(stream, accepted, head ? head.revision + 1n : 0n, events.length);
        return;
      } catch (error) {
        if (error instanceof ServerAppendTooLarge) {
          const largest = pending.reduce((a, b) => (b.size > a.size ? b : a));
          throw new EventTooLarge(stream, largest.events[0].type, largest.size, error.maxAppendSize ?? this.maxAppendSize);
        }
        if (!(error instanceof TransientStoreError)) throw error;
        transientFailures += 1;
        if (transientFailures >= this.retry.attempts) throw this.unavailable(error);
        attempt -= 1; // a transient failure is not a lost race: it has its own bound
        await sleep(this.backoff(transientFailures));
      }
    }
    if (pending.length > 0) {
      for (const request of pending) request.reject(new WrongExpectedVersion(stream, request.expected, lastConflict));
    }
  }

  /**
   * After a write whose outcome was unknown: if its events are in the stream right after the head it was
   * chained onto, it was written, and every request of it gets its result from there.
   */
  private async settleUnsure(stream: string, pending: QueuedAppend[], unsure: { after: bigint | 'no_stream'; ids: string[] }): Promise<boolean> {
    const from = unsure.after === 'no_stream' ? 0n : unsure.after + 1n;
    let recorded: RecordedEvent[];
    try {
      recorded = await this.readStreamOnce(stream, { fromRevision: from, maxCount: unsure.ids.length });
    } catch (error) {
      if (error instanceof StreamNotFound) return false;
      throw error;
    }
    if (!sameIds(recorded.map((e) => e.id), unsure.ids)) return false;
    let offset = 0;
    const seen = new Map<string, AppendResult>();
    for (const request of pending) {
      const key = request.events.map((e) => e.id.toLowerCase()).join(',');
      const earlier = seen.get(key);
      if (earlier) {
        request.resolve(earlier);
        continue;
      }
      offset += request.events.length;
      const last = recorded[offset - 1];
      const result = { nextExpectedRevision: last.revision, position: last.position };
      seen.set(key, result);
      request.resolve(result);
    }
    return true;
  }

  /**
   * The position an append answers with is not guaranteed to be its last event's $all position (and is
   * absent when the server recognised the batch as already written), while callers compare it with the
   * positions their subscriptions deliver; so the batch's events are read back, once for all its requests.
   */
  private async settleWritten(stream: string, accepted: Accepted[], first: bigint, count: number): Promise<void> {
    const recorded = await this.withRetry(() => this.readStreamOnce(stream, { fromRevision: first, maxCount: count }));
    if (recorded.length < count) throw new Error(`Events of stream '${stream}' vanished right after they were appended`);
    let offset = 0;
    const results: AppendResult[] = [];
    for (const { request, chained, twinOf } of accepted) {
      if (twinOf !== undefined) {
        results.push(results[twinOf]);
      } else {
        offset += chained.length;
        const last = recorded[offset - 1];
        results.push({ nextExpectedRevision: last.revision, position: last.position });
      }
      request.resolve(results[results.length - 1]);
    }
  }

  private remember(stream: string, head: KnownHead): void {
    this.heads.delete(stream);
    this.heads.set(stream, head);
    if (this.heads.size > HEAD_CACHE_SIZE) this.heads.delete(this.heads.keys().next().value!);
  }

  /**
   * Explicit idempotency: EventStoreDB's own only holds while the expected revision still matches its recent
   * cache, and our expected revision is the head we read, not the caller's. The tail is only read when the
   * head could be the batch's last event, so an ordinary append pays nothing for this.
   */
  private async findRetriedAppend(
    stream: string,
    events: EventData[],
    expected: ExpectedRevision,
    head: KnownHead | null,
  ): Promise<AppendResult | undefined> {
    const window = retryWindow(expected, head?.revision ?? 'no_stream', events.length);
    if (!window || !head) return undefined;
    if (window.to === head.revision && head.id.toLowerCase() !== events[events.length - 1].id.toLowerCase()) {
      return undefined;
    }
    const recorded = await this.readStreamOnce(stream, { fromRevision: window.from, maxCount: events.length });
    const ids = recorded.map((event) => event.id);
    if (!sameIds(ids, events.map((event) => event.id))) return undefined;
    const last = recorded[recorded.length - 1];
    return { nextExpectedRevision: last.revision, position: last.position };
  }

  private async readHead(stream: string): Promise<KnownHead | null> {
    try {
      const [head] = await this.readStreamOnce(stream, { direction: 'backwards', fromRevision: 'end', maxCount: 1 });
      if (!head) return null;
      const known = { revision: head.revision, hash: headHash(head), id: head.id };
      this.remember(stream, known);
      return known;
    } catch (error) {
      if (error instanceof StreamNotFound) return null;
      throw error;
    }
  }

  readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    return this.withRetry(() => this.readStreamOnce(stream, options));
  }

  private async readStreamOnce(stream: string, options: ReadStreamOptions): Promise<RecordedEvent[]> {
    const direction = options.direction ?? 'forwards';
    const fromRevision = options.fromRevision ?? (direction === 'forwards' ? 'start' : 'end');
    // A zero count still has to tell a missing stream apart, so one event is read and dropped.
    const maxCount = options.maxCount === 0 ? 1 : options.maxCount;
    const events = await this.client.readStream(stream, { direction, fromRevision, maxCount }, this.deadlineMs);
    if (options.maxCount === 0) return [];
    return events.map(toRecordedEvent);
  }

  /**
   * Unfiltered, $all is paged through with readAll. Filtered, it goes through a subscription filtered on the
   * server (the v6 client's readAll takes no filter), so only matching events cross the wire.
   */
  readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const { filter } = options;
    if (filter?.streamPrefixes?.length || filter?.eventTypes?.length) {
      return this.withRetry(() => this.readAllFiltered(options.after, options.maxCount ?? Number.POSITIVE_INFINITY, filter));
    }
    return this.withRetry(() => this.readAllPaged(options.after, options.maxCount ?? Number.POSITIVE_INFINITY));
  }

  private async readAllPaged(after: Position | undefined, wanted: number): Promise<RecordedEvent[]> {
    const found: RecordedEvent[] = [];
    let cursor = after;
    while (found.length < wanted) {
      const page = await this.readAllPage(cursor);
      for (const event of page.events) {
        cursor = event.position;
        const recorded = this.towlineEvent(event, undefined);
        if (!recorded) continue;
        found.push(recorded);
        if (found.length >= wanted) break;
      }
      if (page.end) break;
    }
    return found;
  }

  /** One page of $all strictly after `after` (fromPosition is inclusive: one more is read, the first dropped). */
  private async readAllPage(after: Position | undefined): Promise<{ events: (StoredEvent & { position: Position })[]; end: boolean }> {
    const count = after ? READ_ALL_PAGE_SIZE + 1 : READ_ALL_PAGE_SIZE;
    const read = await this.client.readAll({ direction: 'forwards', from: after ?? 'start', maxCount: count }, this.deadlineMs);
    const events = read.filter(
      (event): event is StoredEvent & { position: Position } => !!event.position && (!after || comparePositions(event.position, after) > 0),
    );
    return { events, end: read.length < count };
  }

  /**
   * A page of matching events through a filtered subscription: it ends at maxCount, at the caught-up message,
   * or once an event or checkpoint reaches the head read before it started (servers before 23.10 send no
   * caught-up message). It must show progress (events or checkpoints) within the deadline.
   */
  private async readAllFiltered(after: Position | undefined, wanted: number, filter: EventFilter): Promise<RecordedEvent[]> {
    const head = await this.headPositionOnce();
    if (!head || (after && comparePositions(after, head) >= 0)) return [];
    const found: RecordedEvent[] = [];
    const subscription = this.client.subscribeToAll(after, serverFilter(filter));
    const items = subscription[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await this.withDeadline(items.next());
        if (next.done) throw new TransientStoreError('unavailable', new Error('the filtered read ended early'));
        const item = next.value;
        if (item.kind === 'caughtUp') break;
        const position = item.kind === 'event' ? item.event.position : item.position;
        if (item.kind === 'event' && position && (!after || comparePositions(position, after) > 0)) {
          const recorded = this.towlineEvent(item.event, filter);
          if (recorded) found.push(recorded);
          if (found.length >= wanted) break;
        }
        if (position && comparePositions(position, head) >= 0) break;
      }
    } finally {
      // Stopped first: a read still waiting (past its deadline) only ends once the stream is destroyed.
      await subscription.stop();
      await items.return?.();
    }
    return found;
  }

  private async withDeadline<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TransientStoreError('deadline_exceeded', new Error(`no answer within ${this.deadlineMs} ms`))),
        this.deadlineMs,
      );
    });
    try {
      return await Promise.race([promise, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The port's event for what a reader of $all met, or undefined for what is not Towline's to read: system
   * events, events the filter leaves out, and events that are not JSON objects — another application's on a
   * shared cluster, which must not stop a consumer. Those are counted and logged (the first, then every
   * thousandth), and the reader moves past them.
   */
  towlineEvent(event: StoredEvent, filter: EventFilter | undefined): RecordedEvent | undefined {
    if (!passesFilter(filter, event.stream, event.type)) return undefined;
    if (!isJsonObjectEvent(event)) {
      this.skippedForeignEvents += 1;
      if (this.skippedForeignEvents % 1_000 === 1) {
        this.logger.warn(
          `Skipped event ${event.id} (${event.type}) in stream '${event.stream}': not a JSON object, so not Towline's ` +
            `(${this.skippedForeignEvents} skipped so far)`,
        );
      }
      return undefined;
    }
    return toRecordedEvent(event);
  }

  subscribeToAll(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
    const subscription = new CatchUpSubscription(this, options, handler, () => this.subscriptions.delete(subscription));
    this.subscriptions.add(subscription);
    return subscription;
  }

  headPosition(): Promise<Position | undefined> {
    return this.withRetry(() => this.headPositionOnce());
  }

  /** The last event a reader of $all can see: the server's own ($stats, $metadata…) are never shown. */
  async headPositionOnce(): Promise<Position | undefined> {
    // The last event first (every subscription and filtered read starts with this), more only when the
    // server's own ($statsCollected every 30 s) are at the end.
    for (const maxCount of [1, 64]) {
      const tail = await this.client.readAll({ direction: 'backwards', from: 'end', maxCount }, this.deadlineMs);
      const last = tail.find((event) => !isSystemEvent(event.stream, event.type))?.position;
      if (last) return { commit: last.commit, prepare: last.prepare };
      if (tail.length < maxCount) return undefined;
    }
    return undefined;
  }

  async ping(): Promise<void> {
    await this.client.readAll({ direction: 'forwards', from: 'start', maxCount: 1 }, this.deadlineMs);
  }

  async close(): Promise<void> {
    while (this.draining.size > 0) await Promise.allSettled([...this.draining.values()]);
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    // The client waits for every call it opened to report its end, and a read given up at its deadline on a
    // node that stopped answering may never do so: closing must not hang on it.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.client.dispose(), new Promise<void>((resolve) => (timer = setTimeout(resolve, DISPOSE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /** Runs `call`, again after a transient failure (with backoff), at most `retry.attempts` times in all. */
  async withRetry<T>(call: () => Promise<T>): Promise<T> {
    for (let failures = 1; ; failures += 1) {
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof TransientStoreError)) throw error;
        if (failures >= this.retry.attempts) throw this.unavailable(error);
        await sleep(this.backoff(failures));
      }
    }
  }

  private backoff(failures: number): number {
    return Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (failures - 1));
  }

  private unavailable(error: TransientStoreError): StoreUnavailable {
    this.logger.warn(`EventStoreDB still failing after ${this.retry.attempts} tries: ${error.message}`);
    return new StoreUnavailable(`The event store is unavailable (${error.reason.replace('_', ' ')}); retry shortly`, 2, error);
  }
}

function headHash(head: RecordedEvent): string {
  const hash = head.metadata.hash;
  if (typeof hash !== 'string') {
    throw new Error(
      `Stream '${head.stream}' ends with event ${head.id} that has no hash; it was not written by Towline and cannot be chained onto`,
    );
  }
  return hash;
}

/**
 * A catch-up subscription to $all, filtered on the server, from the checkpoint: stored events, then live ones,
 * through one server subscription. It goes live at the server's caught-up message, or (servers before 23.10)
 * once an event or checkpoint reaches the head read before it started; both arrive in order with the events,
 * so onCaughtUp never overtakes an event still unhandled. Checkpoints are handed to onCheckpoint, so a
 * consumer records the log as seen past what its filter leaves out. The subscription is consumed with
 * `for await`, so the client stops reading from the server while the handler is busy; positions at or
 * before the last one seen are skipped.
 */
class CatchUpSubscription implements Subscription {
  readonly caughtUp: Promise<void>;
  private resolveCaughtUp!: () => void;
  private rejectCaughtUp!: (error: unknown) => void;
  private settled = false;
  private isLive = false;
  private stopped = false;
  private subscription?: AllSubscription;
  private readonly done: Promise<void>;

  constructor(
    private readonly store: EventStoreDbEventStore,
    private readonly options: SubscribeOptions,
    private readonly handler: SubscriptionHandler,
    onFinished: () => void,
  ) {
    this.caughtUp = new Promise<void>((resolve, reject) => {
      this.resolveCaughtUp = resolve;
      this.rejectCaughtUp = reject;
    });
    // Marks the promise handled so nobody has to await it; whoever does still sees the rejection.
    this.caughtUp.catch(ignore);
    this.done = this.run().finally(onFinished);
  }

  get live(): boolean {
    return this.isLive;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.subscription?.stop();
    await this.done;
  }

  private goLive(): void {
    if (this.isLive || this.stopped) return;
    this.isLive = true;
    this.handler.onCaughtUp?.();
    this.succeed();
  }

  private async run(): Promise<void> {
    const { filter } = this.options;
    let cursor = this.options.after;
    let handlerFailed = false;
    const call = async (fn: () => Promise<void> | void) => {
      try {
        await fn();
      } catch (error) {
        handlerFailed = true;
        throw error;
      }
    };

    try {
      const head = await this.store.headPosition();
      if (this.stopped) return;
      if (!head || (cursor && comparePositions(cursor, head) >= 0)) this.goLive();
      const subscription = this.store.client.subscribeToAll(cursor, serverFilter(filter));
      this.subscription = subscription;
      if (this.stopped) await subscription.stop();
      for await (const item of subscription) {
        if (this.stopped) break;
        if (item.kind === 'caughtUp') {
          this.goLive();
          continue;
        }
        const position = item.kind === 'event' ? item.event.position : item.position;
        if (!position || (cursor && comparePositions(position, cursor) <= 0)) continue;
        cursor = position;
        const recorded = item.kind === 'event' ? this.store.towlineEvent(item.event, filter) : undefined;
        if (recorded) await call(() => this.handler.onEvent(recorded));
        else await call(() => this.handler.onCheckpoint?.(position));
        if (head && comparePositions(position, head) >= 0) this.goLive();
      }
      if (!this.stopped) throw new Error('EventStoreDB ended the $all subscription');
    } catch (error) {
      // Once stopped, stream errors are the echo of our own cancellation; a handler's failure is still real.
      if (this.stopped && !handlerFailed) return;
      this.fail(error);
      try {
        this.handler.onError?.(error);
      } catch {
        // The subscription is already over; a failing error reporter has nowhere left to report to.
      }
    } finally {
      this.isLive = false;
      this.stopped = true;
      await this.subscription?.stop();
      this.fail(new Error('Subscription stopped before it caught up'));
    }
  }

  private succeed(): void {
    if (this.settled) return;
    this.settled = true;
    this.resolveCaughtUp();
  }

  private fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectCaughtUp(error);
  }
}
