/**
 * The event-store port. Its semantics follow EventStoreDB exactly, so that the embedded SQLite adapter and
 * the EventStoreDB adapter are interchangeable and one conformance suite (event-store.conformance.ts) holds
 * both to the same contract.
 */

export const EVENT_STORE = Symbol('EVENT_STORE');

/** JSON values as stored: no undefined, no bigint, no functions. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** `any`: no check; `no_stream`: the stream must not exist; `stream_exists`: it must; bigint: its last revision. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

/** What a writer hands to `append`. `metadata.hash` is the port's own and must not be set by callers. */
export interface EventData {
  id: string;
  type: string;
  data: JsonObject;
  metadata?: JsonObject;
}

/**
 * A place in the global order ($all). Comparable (see comparePositions) and serialisable (see
 * encodePosition), otherwise opaque: the SQLite adapter uses one sequence for both parts.
 */
export interface Position {
  commit: bigint;
  prepare: bigint;
}

export interface RecordedEvent {
  stream: string;
  /** 0-based revision of the event inside its stream. */
  revision: bigint;
  id: string;
  type: string;
  data: JsonObject;
  /** Always carries `hash` (see hash-chain.ts). */
  metadata: JsonObject;
  position: Position;
  created: Date;
}

export interface AppendOptions {
  expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the last event now in the stream: pass it as expectedRevision for the next append. */
  nextExpectedRevision: bigint;
  position: Position;
}

export type Direction = 'forwards' | 'backwards';

export interface ReadStreamOptions {
  direction?: Direction;
  /** Inclusive. Default: 'start' forwards, 'end' backwards. */
  fromRevision?: bigint | 'start' | 'end';
  maxCount?: number;
}

/** A filter on $all: an event passes if it matches every given part. */
export interface EventFilter {
  /** Stream-name prefixes, e.g. ['organisation-', 'source-']. */
  streamPrefixes?: string[];
  eventTypes?: string[];
}

export interface ReadAllOptions {
  /** Exclusive: events strictly after this position. Default: the beginning. */
  after?: Position;
  maxCount?: number;
  filter?: EventFilter;
}

export interface SubscribeOptions {
  /** Exclusive: resume strictly after this (checkpointed) position. Default: the beginning. */
  after?: Position;
  filter?: EventFilter;
}

export interface SubscriptionHandler {
  /** Awaited before the next event is handed over, so a consumer can checkpoint after it returns. */
  onEvent(event: RecordedEvent): Promise<void> | void;
  /** Called once, when the subscription has read everything stored so far and goes live. */
  onCaughtUp?(): void;
  /**
   * The log has been read up to `position` and nothing between the last event handed over and it passes the
   * filter (or it was skipped as not Towline's): a consumer may record it as seen, so a restart does not read
   * those events again. Awaited like onEvent; positions only grow, and the next event lies after it.
   */
  onCheckpoint?(position: Position): Promise<void> | void;
  /** The subscription stops after a handler or store error; the error is reported here. */
  onError?(error: unknown): void;
}

export interface Subscription {
  readonly live: boolean;
  /** Resolves when the subscription first catches up; rejects if it fails or is stopped before that. */
  readonly caughtUp: Promise<void>;
  /** Stops delivering; resolves once the handler in progress (if any) has returned, so never await it there. */
  stop(): Promise<void>;
}

/** What both adapters are built with (see loadConfig). */
export interface EventStoreOptions {
  /** Bytes one append may take (TW_MAX_APPEND_SIZE; default EventStoreDB's MaxAppendSize, 1 MiB). */
  maxAppendSize?: number;
}

export interface EventStore {
  /**
   * Atomic: all events (at least one, lower-case uuid ids) or none. Throws WrongExpectedVersion on a revision
   * mismatch. A retry of an append that succeeded (same ids, same expectation) returns the original result
   * without writing again: for an exact expectation wherever the events now stand, for 'any' and
   * 'stream_exists' while they are still the stream's last events (EventStoreDB's own guarantee is no wider).
   * Throws EventTooLarge, before anything is written, when the append is over the maximum append size, and
   * StoreUnavailable when the store could not be reached within the adapter's bounded retries.
   */
  append(stream: string, events: EventData[], options?: AppendOptions): Promise<AppendResult>;
  /** Throws StreamNotFound if the stream has no events. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** Forwards through $all in global order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Catch-up subscription to $all: stored events first, then live ones, in global order, without gaps. */
  subscribeToAll(options: SubscribeOptions, handler: SubscriptionHandler): Subscription;
  /** The position of the last event in $all (system events included), or undefined for an empty store. */
  headPosition(): Promise<Position | undefined>;
  /** Liveness of the backing store, for /health. */
  ping(): Promise<void>;
  /** Finishes pending writes and releases the store. */
  close(): Promise<void>;
}

/**
 * Where each consumer records the last position it handled, so a restart resumes right after it. Kept beside
 * the consumer's read models (see ReadModelDatabase), not in the event store: it is derived state.
 */
export interface CheckpointStore {
  checkpoint(consumer: string): Position | undefined;
  storeCheckpoint(consumer: string, position: Position): void;
}

export function comparePositions(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

/** Checkpoints are stored as text; this is the one encoding. */
export function encodePosition(position: Position): string {
  return `${position.commit}/${position.prepare}`;
}

export function decodePosition(text: string): Position {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  if (!match) throw new Error(`Not an encoded position: ${text}`);
  return { commit: BigInt(match[1]), prepare: BigInt(match[2]) };
}

export function matchesFilter(filter: EventFilter | undefined, stream: string, type: string): boolean {
  if (!filter) return true;
  if (filter.streamPrefixes && !filter.streamPrefixes.some((prefix) => stream.startsWith(prefix))) return false;
  if (filter.eventTypes && !filter.eventTypes.includes(type)) return false;
  return true;
}
