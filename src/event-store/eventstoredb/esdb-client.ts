import {
  BACKWARDS,
  DeadlineExceededError,
  END,
  EventStoreDBClient,
  FORWARDS,
  LEADER,
  MaxAppendSizeExceededError,
  NotLeaderError,
  START,
  StreamNotFoundError,
  TimeoutError,
  UnavailableError,
  WrongExpectedVersionError,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AllStreamRecordedEvent,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type RecordedEvent as ClientRecordedEvent,
} from '@eventstore/db-client';
import { StreamNotFound } from '../event-store.errors';
import type { JsonObject, Position } from '../event-store.port';

/**
 * The one place that knows `@eventstore/db-client` (v6): its option names, its error classes and fields,
 * its connection-string dialect. Everything else in the EventStoreDB adapter speaks the types below, so moving
 * to `@kurrent/kurrentdb-client` (same wire protocol, renamed package and classes) is a change to this file.
 */

/** An event as read from the server, JSON or not (a foreign application may write anything to a shared cluster). */
export interface StoredEvent {
  stream: string;
  revision: bigint;
  id: string;
  type: string;
  /** The parsed JSON data, or the raw bytes of a non-JSON event. */
  data: unknown;
  isJson: boolean;
  metadata: unknown;
  /** Absent, or all ones, on servers before 22.6 (stream reads): the adapter refuses those. */
  position: Position | undefined;
  created: Date;
}

export interface EventToWrite {
  id: string;
  type: string;
  data: JsonObject;
  metadata: JsonObject;
}

export type WriteExpectation = bigint | 'no_stream';

/** The server-side part of a filter on $all. */
export type ServerFilter = { on: 'streamName' | 'eventType'; prefixes: string[] } | { on: 'excludeSystemEvents' };

/** What a subscription to $all yields, in the server's order: events, checkpoints, and once, caught-up. */
export type SubscriptionItem =
  | { kind: 'event'; event: StoredEvent }
  | { kind: 'checkpoint'; position: Position }
  | { kind: 'caughtUp' };

export interface AllSubscription extends AsyncIterable<SubscriptionItem> {
  stop(): Promise<void>;
}

/**
 * The server could not serve the call now, and trying again shortly may succeed: no leader (an election),
 * unavailable or connection refused, deadline exceeded. The adapter retries these within a bound.
 */
export class TransientStoreError extends Error {
  override readonly name = 'TransientStoreError';
  constructor(
    readonly reason: 'not_leader' | 'unavailable' | 'deadline_exceeded',
    override readonly cause: unknown,
  ) {
    super(`EventStoreDB ${reason.replace('_', ' ')}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** The stream's revision did not match the expectation sent; `actual` as the server reported it. */
export class RevisionConflict extends Error {
  override readonly name = 'RevisionConflict';
  constructor(readonly actual: bigint | 'no_stream') {
    super(`Wrong expected revision, actual ${String(actual)}`);
  }
}

/** The server refused the append as over its own MaxAppendSize (configured below Towline's limit). */
export class ServerAppendTooLarge extends Error {
  override readonly name = 'ServerAppendTooLarge';
  constructor(readonly maxAppendSize: number | undefined) {
    super(`EventStoreDB refused the append as over its maximum append size${maxAppendSize ? ` of ${maxAppendSize} bytes` : ''}`);
  }
}

/** The connection-string schemes the v6 client parses, and those Towline rewrites to them (see normalize). */
const REWRITTEN_SCHEMES: Record<string, string> = {
  kurrentdb: 'esdb',
  'kurrentdb+discover': 'esdb+discover',
  kdb: 'esdb',
  'kdb+discover': 'esdb+discover',
  esdb: 'esdb',
  'esdb+discover': 'esdb+discover',
};

export class ConnectionStringError extends Error {
  override readonly name = 'ConnectionStringError';
}

/**
 * The connection string the client is built with. `kurrentdb://` and `kurrentdb+discover://` (and `kdb…`)
 * are KurrentDB's names for the same gRPC protocol, which the v6 client does not parse: they are rewritten to
 * `esdb://`. Towline writes, and its subscriptions must see every write at once, so it talks to the leader
 * only: `nodePreference` other than leader is refused (a follower refuses appends with NotLeader, and the
 * client would keep reconnecting), and `nodePreference=leader` is set when absent, so the built client is
 * leader-only whatever the client's default.
 */
export function normalizeConnectionString(connectionString: string): string {
  const match = /^([a-z+]+):\/\/(.*)$/i.exec(connectionString.trim());
  const scheme = match ? REWRITTEN_SCHEMES[match[1].toLowerCase()] : undefined;
  if (!match || !scheme) {
    throw new ConnectionStringError('must start with esdb://, esdb+discover://, kurrentdb:// or kurrentdb+discover://');
  }
  const rest = match[2];
  const queryAt = rest.indexOf('?');
  const authority = queryAt < 0 ? rest : rest.slice(0, queryAt);
  const query = new URLSearchParams(queryAt < 0 ? '' : rest.slice(queryAt + 1));
  if (authority.replace(/^[^@]*@/, '').replace(/\/+$/, '').length === 0) throw new ConnectionStringError('names no host');
  // The client reads option names case- and separator-insensitively; so does this check.
  const flat = (key: string) => key.toLowerCase().replace(/[_-]/g, '');
  const preferences = [...query.entries()].filter(([key]) => flat(key) === 'nodepreference');
  for (const [, value] of preferences) {
    if (flat(value) !== LEADER) {
      throw new ConnectionStringError(
        `nodePreference=${value} is not supported: Towline appends and subscribes on the leader (use nodePreference=leader or leave it out)`,
      );
    }
  }
  if (preferences.length === 0) query.set('nodePreference', LEADER);
  return `${scheme}://${authority}?${query.toString()}`;
}

/** Maps a client error to the adapter's: typed where the adapter acts on it, as it came otherwise. */
export function mapClientError(error: unknown, stream?: string): unknown {
  if (error instanceof WrongExpectedVersionError) {
    const actual = error.actualVersion;
    return new RevisionConflict(typeof actual === 'bigint' ? actual : 'no_stream');
  }
  if (error instanceof StreamNotFoundError && stream !== undefined) return new StreamNotFound(stream);
  if (error instanceof MaxAppendSizeExceededError) return new ServerAppendTooLarge(error.maxAppendSize);
  if (error instanceof NotLeaderError) return new TransientStoreError('not_leader', error);
  if (error instanceof UnavailableError) return new TransientStoreError('unavailable', error);
  if (error instanceof DeadlineExceededError || error instanceof TimeoutError) return new TransientStoreError('deadline_exceeded', error);
  // Before a channel exists (discovery, a refused connection) the client throws plain errors.
  const message = error instanceof Error ? error.message : '';
  if (/ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ETIMEDOUT|Failed to discover|No connection established/i.test(message)) {
    return new TransientStoreError('unavailable', error);
  }
  return error;
}

function storedEvent(event: ClientRecordedEvent | AllStreamRecordedEvent): StoredEvent {
  return {
    stream: event.streamId,
    revision: event.revision,
    id: event.id,
    type: event.type,
    data: event.data,
    isJson: event.isJson,
    metadata: event.metadata,
    position: event.position ? { commit: event.position.commit, prepare: event.position.prepare } : undefined,
    created: event.created,
  };
}

/**
 * Reads a whole streaming read, within a deadline. The v6 client gives its streaming reads (readStream,
 * readAll) no deadline at all — `deadline` is only honoured by unary calls — so a stalled node would hold a
 * read, and the request waiting on it, for ever: the stream is destroyed here when the deadline passes.
 */
async function collect<T, U>(
  source: AsyncIterable<T> & { destroy(error?: Error): void },
  map: (item: T) => U | undefined,
  deadlineMs: number,
): Promise<U[]> {
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    source.destroy(new Error(`no answer within ${deadlineMs} ms`));
  }, deadlineMs);
  try {
    const items: U[] = [];
    for await (const item of source) {
      const mapped = map(item);
      if (mapped !== undefined) items.push(mapped);
    }
    if (expired) throw new Error(`no answer within ${deadlineMs} ms`);
    return items;
  } catch (error) {
    if (expired) throw new TransientStoreError('deadline_exceeded', error);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Marks our own items in the client's object stream: checkpoints and caught-up, pushed in order with its events. */
const MARK = Symbol('towline.subscription.item');
type Marked = { [MARK]: SubscriptionItem };

export class EsdbClient {
  private constructor(private readonly client: EventStoreDBClient) {}

  static connect(connectionString: string): EsdbClient {
    return new EsdbClient(EventStoreDBClient.connectionString(normalizeConnectionString(connectionString)));
  }

  /** Appends `events` expecting exactly `expected` (the adapter always knows the head it chained onto). */
  /**
   * Appends `events` expecting exactly `expected` (the adapter always knows the head it chained onto). The
   * client only sends the deadline to the server (BatchAppend) and would wait for ever on a node that does
   * not answer, so it is enforced here too; the outcome of such a write is unknown (it may still land).
   */
  async append(stream: string, events: EventToWrite[], expected: WriteExpectation, deadlineMs: number): Promise<bigint> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const appending = this.client.appendToStream(
        stream,
        events.map((event) => jsonEvent({ id: event.id, type: event.type, data: event.data, metadata: event.metadata })),
        { expectedRevision: expected, deadline: deadlineMs },
      );
      appending.catch(() => undefined); // a late failure after the deadline has nobody left to tell
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TransientStoreError('deadline_exceeded', new Error(`no answer within ${deadlineMs} ms`))), deadlineMs);
      });
      const result = await Promise.race([appending, deadline]);
      return result.nextExpectedRevision;
    } catch (error) {
      throw mapClientError(error, stream);
    } finally {
      clearTimeout(timer);
    }
  }

  async readStream(
    stream: string,
    options: { direction: 'forwards' | 'backwards'; fromRevision: bigint | 'start' | 'end'; maxCount?: number },
    deadlineMs: number,
  ): Promise<StoredEvent[]> {
    try {
      const source = this.client.readStream(stream, {
        direction: options.direction === 'forwards' ? FORWARDS : BACKWARDS,
        fromRevision: options.fromRevision === 'start' ? START : options.fromRevision === 'end' ? END : options.fromRevision,
        ...(options.maxCount === undefined ? {} : { maxCount: options.maxCount }),
      });
      return await collect(source, ({ event }) => (event ? storedEvent(event) : undefined), deadlineMs);
    } catch (error) {
      throw mapClientError(error, stream);
    }
  }

  /** Reads $all without a filter (the v6 client's readAll takes none): `from` is inclusive. */
  async readAll(
    options: { direction: 'forwards' | 'backwards'; from: Position | 'start' | 'end'; maxCount: number },
    deadlineMs: number,
  ): Promise<StoredEvent[]> {
    try {
      const source = this.client.readAll({
        direction: options.direction === 'forwards' ? FORWARDS : BACKWARDS,
        fromPosition: options.from === 'start' ? START : options.from === 'end' ? END : options.from,
        maxCount: options.maxCount,
      });
      return await collect(source, ({ event }) => (event ? storedEvent(event) : undefined), deadlineMs);
    } catch (error) {
      throw mapClientError(error);
    }
  }

  /**
   * A catch-up subscription to $all strictly after `after`, filtered on the server, yielding checkpoints
   * (checkpointReached: every `checkpointInterval` × the server's search window of considered events, and at
   * the end of the catch-up) and the caught-up message (servers from 23.10 on) in order with the events. The
   * client reports both through callbacks and events while the events before them may still sit in its
   * buffer, so they are pushed into the same object stream instead: consumed with `for await`, they arrive
   * exactly where the server sent them, and the client stops reading while the consumer is busy.
   */
  subscribeToAll(after: Position | undefined, filter: ServerFilter): AllSubscription {
    const push = (subscription: AllStreamSubscription, item: SubscriptionItem) => {
      subscription.push({ [MARK]: item } satisfies Marked);
    };
    const checkpoint = {
      checkpointInterval: 1,
      checkpointReached: (subscription: AllStreamSubscription, position: Position) => {
        push(subscription, { kind: 'checkpoint', position: { commit: position.commit, prepare: position.prepare } });
      },
    };
    const serverFilter =
      filter.on === 'streamName'
        ? streamNameFilter({ prefixes: filter.prefixes, ...checkpoint })
        : filter.on === 'eventType'
          ? eventTypeFilter({ prefixes: filter.prefixes, ...checkpoint })
          : excludeSystemEvents(checkpoint);
    const subscription = this.client.subscribeToAll({ fromPosition: after ?? START, filter: serverFilter });
    subscription.on('caughtUp', () => push(subscription, { kind: 'caughtUp' }));
    // Errors the client emits after the consumer has let go (a late cancellation) have no other listener,
    // and an unheard 'error' would crash the process; while it iterates, the iterator rethrows them.
    subscription.on('error', () => undefined);
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await subscription.unsubscribe().catch(() => undefined);
      // Cancelling the gRPC call does not reliably end the client's stream; destroying it wakes the consumer.
      subscription.destroy();
    };
    return {
      stop,
      async *[Symbol.asyncIterator]() {
        try {
          for await (const item of subscription as AsyncIterable<AllStreamResolvedEvent | Marked>) {
            if (MARK in item) yield item[MARK];
            else if (item.event) yield { kind: 'event', event: storedEvent(item.event) };
          }
        } catch (error) {
          if (stopped) return;
          throw mapClientError(error);
        } finally {
          // Leaving the loop early only destroys the client's stream; the gRPC call has to be cancelled too.
          await stop();
        }
      },
    };
  }

  async dispose(): Promise<void> {
    await this.client.dispose();
  }
}
