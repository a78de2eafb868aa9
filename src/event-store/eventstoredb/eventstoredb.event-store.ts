import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AllStreamRecordedEvent,
  type AllStreamSubscription,
  type Filter,
  type RecordedEvent as EsdbRecordedEvent,
} from '@eventstore/db-client';
import { StreamNotFound, WrongExpectedVersion } from '../event-store.errors';
import {
  comparePositions,
  matchesFilter,
  type AppendOptions,
  type AppendResult,
  type EventData,
  type EventFilter,
  type EventStore,
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
import { validateAppend } from '../append-validation';
import { GENESIS_HASH, chainHash, withoutHash } from '../hash-chain';

/**
 * How often an append with 'any' / 'stream_exists' re-reads the head after losing a race. Each loss means
 * another writer made progress, so this only bounds pathological contention on one stream.
 */
export const MAX_APPEND_ATTEMPTS = 20;

/** $all is read in pages so that a filtered read or a catch-up never holds more than this in memory. */
export const READ_ALL_PAGE_SIZE = 500;

export type CurrentRevision = bigint | 'no_stream';

/** The last event of a stream: what the next event's revision and hash chain on. */
export interface StreamHead {
  revision: bigint;
  hash: string;
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
 * The server-side part of a subscription filter; `passesFilter` is always applied to what arrives as well.
 * EventStoreDB filters on one thing only, so with both parts the stream prefixes go to the server and the
 * types are checked here. Types are sent as prefixes rather than a regex: it over-selects slightly
 * ('Alert' also lets 'AlertClosed' through, which the client check then drops) but needs no escaping
 * between JavaScript and .NET regex dialects. An empty list matches nothing, which no server filter can
 * say, so it falls back to excluding system events and lets the client check drop the rest.
 */
export function serverFilter(filter: EventFilter | undefined): Filter {
  if (filter?.streamPrefixes?.length) return streamNameFilter({ prefixes: filter.streamPrefixes });
  if (filter?.eventTypes?.length) return eventTypeFilter({ prefixes: filter.eventTypes });
  return excludeSystemEvents();
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** What servers before 22.6 put in the position fields of events read from a stream (-1 as a uint64). */
export const NO_POSITION = 2n ** 64n - 1n;

/**
 * Maps the client's event to the port's. Positions on stream reads only exist from EventStoreDB 22.6 on,
 * and the port promises them, so an older server is refused here rather than given made-up positions.
 * Missing metadata becomes {} instead of an error: chain verification is where a missing hash is reported.
 */
export function toRecordedEvent(event: EsdbRecordedEvent | AllStreamRecordedEvent): RecordedEvent {
  if (!event.isJson || !isJsonObject(event.data)) {
    throw new Error(`Event ${event.id} in stream '${event.streamId}' is not a JSON object event`);
  }
  if (!event.position || event.position.commit === NO_POSITION || event.position.prepare === NO_POSITION) {
    throw new Error(`EventStoreDB returned event ${event.id} without a position; Towline needs EventStoreDB 22.10 or later`);
  }
  return {
    stream: event.streamId,
    revision: event.revision,
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: isJsonObject(event.metadata) ? event.metadata : {},
    position: { commit: event.position.commit, prepare: event.position.prepare },
    created: event.created,
  };
}

/** For failures that have already been reported elsewhere, or that only echo our own cancellation. */
function ignore(): void {}

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of source) items.push(item);
  return items;
}

interface Page {
  /** Every event strictly after the requested position, system and filtered-out ones included. */
  events: AllStreamRecordedEvent[];
  end: boolean;
}

export class EventStoreDbEventStore implements EventStore {
  private readonly pendingAppends = new Set<Promise<unknown>>();
  private readonly subscriptions = new Set<CatchUpSubscription>();

  constructor(private readonly client: EventStoreDBClient) {}

  static fromConnectionString(connectionString: string): EventStoreDbEventStore {
    return new EventStoreDbEventStore(EventStoreDBClient.connectionString(connectionString));
  }

  append(stream: string, events: EventData[], options: AppendOptions = {}): Promise<AppendResult> {
    const pending = this.appendChained(stream, events, options.expectedRevision ?? 'any');
    this.pendingAppends.add(pending);
    const forget = () => this.pendingAppends.delete(pending);
    pending.then(forget, forget);
    return pending;
  }

  /**
   * The hash of each event depends on its revision, so the head is read first and the write is made
   * conditional on exactly that head: if another writer got in between, EventStoreDB refuses the append and
   * the chain is never forked. Losing that race is then judged against the caller's own expectation on the
   * next pass: 'any' / 'stream_exists' simply chain onto the new head; an exact expectation either finds its
   * own events there (a concurrent retry of the same batch) or fails with the revision actually found.
   */
  private async appendChained(stream: string, events: EventData[], expected: ExpectedRevision): Promise<AppendResult> {
    validateAppend(stream, events);
    let lastConflict: WrongExpectedVersionError | undefined;
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt += 1) {
      const head = await this.readHead(stream);
      const current: CurrentRevision = head?.revision ?? 'no_stream';

      const retried = await this.findRetriedAppend(stream, events, expected, head);
      if (retried) return retried;
      if (!satisfiesExpected(expected, current)) throw new WrongExpectedVersion(stream, expected, current);

      const chained = chainEvents(stream, head && { revision: head.revision, hash: headHash(head) }, events);
      let written: bigint;
      try {
        const result = await this.client.appendToStream(
          stream,
          chained.map((event) => jsonEvent(event)),
          { expectedRevision: head ? head.revision : 'no_stream' },
        );
        written = result.nextExpectedRevision;
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        lastConflict = error;
        continue;
      }
      // The position an append answers with is not guaranteed to be its last event's $all position (and is
      // absent when the server recognised the batch as already written), while callers compare it with the
      // positions their subscriptions deliver; so the event's own position is read back.
      return { nextExpectedRevision: written, position: await this.positionOf(stream, written) };
    }
    throw new WrongExpectedVersion(stream, expected, lastConflict?.actualVersion ?? 'no_stream');
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
    head: RecordedEvent | null,
  ): Promise<AppendResult | undefined> {
    const window = retryWindow(expected, head?.revision ?? 'no_stream', events.length);
    if (!window || !head) return undefined;
    if (window.to === head.revision && head.id.toLowerCase() !== events[events.length - 1].id.toLowerCase()) {
      return undefined;
    }
    const recorded = await this.readStream(stream, { fromRevision: window.from, maxCount: events.length });
    const ids = recorded.map((event) => event.id);
    if (!sameIds(ids, events.map((event) => event.id))) return undefined;
    const last = recorded[recorded.length - 1];
    return { nextExpectedRevision: last.revision, position: last.position };
  }

  private async readHead(stream: string): Promise<RecordedEvent | null> {
    try {
      const [head] = await this.readStream(stream, { direction: 'backwards', fromRevision: 'end', maxCount: 1 });
      return head ?? null;
    } catch (error) {
      if (error instanceof StreamNotFound) return null;
      throw error;
    }
  }

  private async positionOf(stream: string, revision: bigint): Promise<Position> {
    const [event] = await this.readStream(stream, { fromRevision: revision, maxCount: 1 });
    if (!event) throw new Error(`Event ${revision} of stream '${stream}' vanished right after it was appended`);
    return event.position;
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const direction = options.direction ?? 'forwards';
    const fromRevision = options.fromRevision ?? (direction === 'forwards' ? 'start' : 'end');
    // A zero count still has to tell a missing stream apart, so one event is read and dropped.
    const maxCount = options.maxCount === 0 ? 1 : options.maxCount;
    try {
      const resolved = await collect(
        this.client.readStream(stream, {
          direction,
          fromRevision,
          ...(maxCount === undefined ? {} : { maxCount }),
        }),
      );
      if (options.maxCount === 0) return [];
      return resolved.flatMap(({ event }) => (event ? [toRecordedEvent(event)] : []));
    } catch (error) {
      if (error instanceof StreamNotFoundError) throw new StreamNotFound(stream);
      throw error;
    }
  }

  /**
   * The v6 client's readAll takes no server-side filter (only subscribeToAll does), so filtered reads page
   * through $all and filter here.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const wanted = options.maxCount ?? Number.POSITIVE_INFINITY;
    const found: RecordedEvent[] = [];
    let cursor = options.after;
    while (found.length < wanted) {
      const page = await this.readAllPage(cursor);
      for (const event of page.events) {
        cursor = event.position;
        if (!passesFilter(options.filter, event.streamId, event.type)) continue;
        found.push(toRecordedEvent(event));
        if (found.length >= wanted) break;
      }
      if (page.end) break;
    }
    return found;
  }

  /**
   * One page of $all strictly after `after`. EventStoreDB's fromPosition is inclusive, so one extra event is
   * asked for and the one sitting exactly at `after` dropped. A short page means the end was reached.
   * Not part of the port: public only so the subscription's catch-up phase can share it.
   */
  async readAllPage(after: Position | undefined): Promise<Page> {
    const count = after ? READ_ALL_PAGE_SIZE + 1 : READ_ALL_PAGE_SIZE;
    const resolved = await collect(this.client.readAll({ fromPosition: after ?? START, maxCount: count }));
    const events = resolved.flatMap(({ event }) =>
      event && (!after || comparePositions(event.position, after) > 0) ? [event] : [],
    );
    return { events, end: resolved.length < count };
  }

  subscribeToAll(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
    const subscription = new CatchUpSubscription(this, this.client, options, handler, () =>
      this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<Position | undefined> {
    // The last event a reader of $all can see: the server's own ($stats, $metadata…) are never shown.
    const tail = await collect(this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 64 }));
    const last = tail.find(({ event }) => event && !isSystemEvent(event.streamId, event.type))?.event;
    return last ? { commit: last.position.commit, prepare: last.position.prepare } : undefined;
  }

  async ping(): Promise<void> {
    await collect(this.client.readAll({ maxCount: 1 }));
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pendingAppends]);
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    await this.client.dispose();
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
 * Catch-up in two phases. Phase one pages through $all with readAll from the checkpoint to the end and
 * then reports onCaughtUp; phase two opens a live subscription from the last position phase one saw.
 * This rather than the subscription's own 'caughtUp' event because that event only exists on servers from
 * 23.10 on, and because the client emits it when the message is parsed, while events before it may still
 * sit unhandled in the stream's buffer — onCaughtUp would overtake them. Phase two may first replay what was
 * written between the two phases; that is still in order and without gaps, just after onCaughtUp.
 * The subscription is consumed with `for await`, so the client stops reading from the server while the
 * handler is busy, and positions at or before the last one seen are skipped in case the server's
 * fromPosition were inclusive.
 */
class CatchUpSubscription implements Subscription {
  readonly caughtUp: Promise<void>;
  private resolveCaughtUp!: () => void;
  private rejectCaughtUp!: (error: unknown) => void;
  private settled = false;
  private isLive = false;
  private stopped = false;
  private subscription?: AllStreamSubscription;
  private readonly done: Promise<void>;

  constructor(
    private readonly store: EventStoreDbEventStore,
    private readonly client: EventStoreDBClient,
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
    const live = this.subscription;
    if (live) {
      await live.unsubscribe().catch(ignore);
      // Cancelling the gRPC call does not reliably end the client's stream; destroying it wakes the loop.
      live.destroy();
    }
    await this.done;
  }

  private async run(): Promise<void> {
    const { filter } = this.options;
    let cursor = this.options.after;
    let handlerFailed = false;
    const deliver = async (event: AllStreamRecordedEvent): Promise<void> => {
      cursor = event.position;
      if (!passesFilter(filter, event.streamId, event.type)) return;
      const recorded = toRecordedEvent(event);
      try {
        await this.handler.onEvent(recorded);
      } catch (error) {
        handlerFailed = true;
        throw error;
      }
    };

    try {
      for (let end = false; !end && !this.stopped; ) {
        const page = await this.store.readAllPage(cursor);
        for (const event of page.events) {
          if (this.stopped) return;
          await deliver(event);
        }
        end = page.end;
      }
      if (this.stopped) return;
      this.isLive = true;
      this.handler.onCaughtUp?.();
      this.succeed();

      const live = this.client.subscribeToAll({ fromPosition: cursor ?? START, filter: serverFilter(filter) });
      this.subscription = live;
      // Errors the client emits after the loop below has let go (e.g. a late cancellation) have no other
      // listener, and an unheard 'error' would crash the process.
      live.on('error', ignore);
      try {
        for await (const { event } of live) {
          if (this.stopped) break;
          if (!event || (cursor && comparePositions(event.position, cursor) <= 0)) continue;
          await deliver(event);
        }
      } finally {
        // Leaving the loop early only destroys the client's stream; the gRPC call has to be cancelled too.
        await live.unsubscribe().catch(ignore);
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
