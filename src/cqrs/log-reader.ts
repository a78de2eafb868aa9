import { Logger } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import { comparePositions, type EventStore, type Position, type RecordedEvent, type Subscription } from '../event-store/event-store.port';
import { hydrate } from './domain-event';

/** Before the first event of the log: compares below every real position. */
export const BEFORE_START: Position = { commit: -1n, prepare: -1n };

const RESTART_DELAY_MS = 1_000;
/**
 * The window's memory budget, beside its count: one alert may carry a body of up to TW_BODY_LIMIT, so ten
 * thousand events can be anything from a few megabytes to gigabytes.
 */
const WINDOW_BYTES = 64 * 1024 * 1024;

/** A cheap estimate of an event's size in memory: its strings two levels down, plus a fixed overhead. */
function approximateSize(value: unknown, depth = 0): number {
  if (typeof value === 'string') return value.length * 2;
  if (depth > 2 || typeof value !== 'object' || value === null) return 8;
  let size = 64;
  for (const child of Array.isArray(value) ? value : Object.values(value)) size += approximateSize(child, depth + 1);
  return size;
}

/** An event as the read side passes it around: read and decoded once, hydrated at most once. */
export class LogEntry {
  private hydrated: IEvent | undefined | null = null;
  readonly size: number;

  constructor(readonly recorded: RecordedEvent) {
    this.size = 256 + approximateSize(recorded.data);
  }

  /** The domain event, or undefined for a type this build does not know. Shared: handlers must not mutate it. */
  get event(): IEvent | undefined {
    if (this.hydrated === null) this.hydrated = hydrate(this.recorded);
    return this.hydrated;
  }

  get position(): Position {
    return this.recorded.position;
  }
}

/** A resettable wake-up: `wait()` resolves at the next `notify()`. */
export class Signal {
  private waiters: (() => void)[] = [];

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * The read side's one reader of the log's tail. It holds one subscription to $all, filtered (on the server,
 * where the store can) to the types some consumer handles, and follows the store's checkpoints past what the
 * filter leaves out, so that a consumer that has taken the window has seen the log up to its head, whatever
 * it wanted from it — events of other applications on a shared cluster are never transferred. It keeps
 * what it read, decoded once, in a bounded window that every consumer
 * near the head takes its batches from. A consumer behind the window (a fresh or rebuilding read model, or
 * one slower than the rest) reads its own types straight from the store until it reaches the window, so no
 * consumer ever waits for another: the window drops what the slowest one has not taken once it is full.
 * The subscription runs at most `capacity` events ahead of the most advanced consumer, so a burst of writes
 * is read once, as fast as the read side can use it, and never piles up in memory.
 */
export class LogReader {
  private readonly logger = new Logger('LogReader');
  private entries: LogEntry[] = [];
  /** Index of the window's first entry in `entries` (dropped ones are compacted away now and then). */
  private first = 0;
  /** Every event after this position is in the window. */
  private coveredAfter: Position = BEFORE_START;
  private head: Position = BEFORE_START;
  /** Estimated memory held by the window's entries (see WINDOW_BYTES). */
  private bytes = 0;
  private subscription?: Subscription;
  private restartTimer?: NodeJS.Timeout;
  private announcing?: NodeJS.Immediate;
  private stopped = false;
  /** Woken when the window grows (consumers at the head wait on it)... */
  readonly grown = new Signal();
  /** ...and when a consumer moves on (the subscription, when it is far enough ahead, waits on it). */
  private readonly progressed = new Signal();

  constructor(
    private readonly store: EventStore,
    private readonly capacity: number,
    /** The positions consumers have reached: the window serves them and is trimmed behind them. */
    private readonly consumerPositions: () => Position[],
    /** Every type some consumer handles; undefined reads every event. */
    private readonly types?: readonly string[],
  ) {}

  /** Starts reading right after `after`: the most advanced consumer's checkpoint. */
  start(after: Position): void {
    this.coveredAfter = after;
    this.head = after;
    this.subscribe();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearImmediate(this.announcing);
    this.grown.notify();
    this.progressed.notify();
    await this.subscription?.stop();
  }

  /** Whether the window holds every event after `position`. */
  covers(position: Position): boolean {
    return comparePositions(position, this.coveredAfter) >= 0;
  }

  /** Where the window starts: a consumer reading from the store may continue from the window once past it. */
  get windowStart(): Position {
    return this.coveredAfter;
  }

  /** The last position read from the log: an event's, or a checkpoint past events no consumer handles. */
  get headPosition(): Position {
    return this.head;
  }

  /**
   * Up to `max` entries after `position` (which the window must cover), and the last position they span:
   * a consumer that takes them has seen the log up to there, whatever their types.
   */
  after(position: Position, max: number): LogEntry[] {
    const from = this.indexAfter(position);
    return this.entries.slice(from, Math.min(from + max, this.entries.length));
  }

  /** How many events the window holds after `position`, or null when the window does not reach back to it. */
  lag(position: Position): number | null {
    return this.covers(position) ? this.entries.length - this.indexAfter(position) : null;
  }

  /** Consumers call this after each batch: it trims the window behind them and lets the subscription go on. */
  moved(): void {
    const positions = this.consumerPositions();
    const covered = positions.filter((p) => this.covers(p));
    let keepAfter = covered.reduce((min, p) => (comparePositions(p, min) < 0 ? p : min), this.head);
    // A consumer more than twice the window (in events or in memory) behind is left to read from the store.
    let hardLimit = Math.max(this.first, this.entries.length - 2 * this.capacity);
    for (let bytes = this.bytes, i = this.first; bytes > 2 * WINDOW_BYTES && i < this.entries.length - 1; i++) {
      bytes -= this.entries[i].size;
      hardLimit = Math.max(hardLimit, i + 1);
    }
    if (hardLimit > this.first && comparePositions(this.entries[hardLimit - 1].position, keepAfter) > 0) {
      keepAfter = this.entries[hardLimit - 1].position;
    }
    const drop = this.indexAfter(keepAfter);
    if (drop > this.first) {
      for (let i = this.first; i < drop; i++) this.bytes -= this.entries[i].size;
      this.coveredAfter = this.entries[drop - 1].position;
      this.first = drop;
      if (this.first > 4_096 && this.first * 2 > this.entries.length) {
        this.entries = this.entries.slice(this.first);
        this.first = 0;
      }
    }
    this.progressed.notify();
  }

  private subscribe(): void {
    this.subscription = this.store.subscribeToAll(
      { after: this.head === BEFORE_START ? undefined : this.head, filter: this.types ? { eventTypes: [...this.types] } : undefined },
      {
        onEvent: async (recorded) => {
          const entry = new LogEntry(recorded);
          this.entries.push(entry);
          this.bytes += entry.size;
          this.head = recorded.position;
          this.announce();
          while (!this.stopped && this.tooFarAhead()) await this.progressed.wait();
        },
        onCheckpoint: (position) => {
          if (comparePositions(position, this.head) <= 0) return;
          this.head = position;
          this.announce();
        },
        onCaughtUp: () => this.grown.notify(),
        onError: (error) => {
          if (this.stopped) return;
          this.logger.error(`Reading the log failed: ${String(error)}; reading again from ${this.head.commit}`);
          this.restartTimer = setTimeout(() => this.subscribe(), RESTART_DELAY_MS);
        },
      },
    );
  }

  /**
   * Wakes the consumers once the page being read is in (at the next turn of the event loop), not at each
   * event: they take it as one batch — one transaction per projection, not one per event.
   */
  private announce(): void {
    if (this.announcing) return;
    this.announcing = setImmediate(() => {
      this.announcing = undefined;
      this.grown.notify();
    });
  }

  /** Read a window's worth beyond the most advanced consumer (which, if it has nothing left, never waits for). */
  private tooFarAhead(): boolean {
    const fastest = this.consumerPositions().reduce((max, p) => (comparePositions(p, max) > 0 ? p : max), BEFORE_START);
    const ahead = this.entries.length - this.indexAfter(fastest);
    return ahead >= this.capacity || (ahead > 0 && this.bytes >= WINDOW_BYTES);
  }

  /** Index of the first window entry strictly after `position` (binary search: positions only grow). */
  private indexAfter(position: Position): number {
    let low = this.first;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (comparePositions(this.entries[mid].position, position) <= 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
