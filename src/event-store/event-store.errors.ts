import type { ExpectedRevision } from './event-store.port';

/** The stream's current revision did not match the writer's expectation; nothing was written. */
export class WrongExpectedVersion extends Error {
  override readonly name = 'WrongExpectedVersion';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    /** The stream's last revision, or 'no_stream' when it has no events. */
    readonly actual: bigint | 'no_stream',
  ) {
    super(`Wrong expected revision on stream '${stream}': expected ${String(expected)}, actual ${String(actual)}`);
  }
}

/**
 * The stream has no events. Expected control flow (every new incident's first load meets it), so it carries
 * no stack trace: capturing one was a measurable cost on the inbound path, and it would only ever point here.
 */
export class StreamNotFound extends Error {
  override readonly name = 'StreamNotFound';
  constructor(readonly stream: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`Stream '${stream}' not found`);
    Error.stackTraceLimit = limit;
  }
}

/**
 * An append (one event, or all events of one atomic append) is over the store's maximum append size
 * (TW_MAX_APPEND_SIZE, by default EventStoreDB's own MaxAppendSize of 1 MiB). Refused before anything is sent,
 * by both adapters, so an alert that would be lost on EventStoreDB is refused on SQLite too.
 */
export class EventTooLarge extends Error {
  override readonly name = 'EventTooLarge';
  constructor(
    readonly stream: string,
    /** The type of the largest event of the append. */
    readonly eventType: string,
    /** Bytes the append would take, as EventStoreDB counts them (see appendSize). */
    readonly size: number,
    readonly maxAppendSize: number,
  ) {
    super(`Append to '${stream}' (${eventType}) is ${size} bytes, over the maximum append size of ${maxAppendSize} bytes`);
  }
}

/**
 * The store did not answer, or answered that it cannot serve the request now (no leader during an election,
 * unavailable, deadline exceeded, connection refused), after the adapter's bounded retries. Nothing can be
 * said about a write that failed this way beyond "retry it": the retry is idempotent (same event ids).
 */
export class StoreUnavailable extends Error {
  override readonly name = 'StoreUnavailable';
  constructor(
    message: string,
    /** Seconds a client should wait before retrying (the HTTP layer's Retry-After). */
    readonly retryAfterSeconds = 2,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}
