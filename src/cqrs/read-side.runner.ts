import { Inject, Injectable, Logger, type OnModuleInit, type Type } from '@nestjs/common';
import { PARAMTYPES_METADATA, SELF_DECLARED_DEPS_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import { CommandBus, type ICommand, type IEvent } from '@nestjs/cqrs';
import { lastValueFrom, of, toArray, type Observable } from 'rxjs';
import { APP_CONFIG, type AppConfig } from '../config/config';
import {
  EVENT_STORE,
  comparePositions,
  encodePosition,
  type EventStore,
  type Position,
  type RecordedEvent,
} from '../event-store/event-store.port';
import { StreamNotFound } from '../event-store/event-store.errors';
import { truncateText } from '../http/text';
import { READ_MODEL_DATABASE, ReadModelDatabase, tableName } from '../read-model/read-model.database';
import { contextOf, eventTypeOf, hydrate, type EventContext } from './domain-event';
import { BEFORE_START, LogEntry, LogReader, Signal } from './log-reader';
import { ParkedEvents, type ParkedEvent } from './parked-events';
import { runWithContext } from './request-context';
import { STORE_CONSUMER, type StoreConsumerHandler, type StoreConsumerOptions } from './store-consumer';

/** @nestjs/cqrs keeps @Saga() property names under this key; its constants are not exported. */
const SAGA_METADATA = '__saga__';
/** Tries of one event before it is parked; a projection's first try is inside its batch. */
const ATTEMPTS = 4;
const RETRY_BASE_MS = 50;
/** Events per batch taken from the window: one transaction for a projection... */
const BATCH = 500;
/** ...and one checkpoint for a reactor, whose batch is redone after a crash: smaller. */
const REACTOR_BATCH = 100;
/** Events per page a consumer behind the window reads from the store itself. */
const STORE_PAGE = 1_000;
/** A consumer that only sees other consumers' events still moves its checkpoint this often, so restarts skip them. */
const IDLE_CHECKPOINT_EVERY = 2_000;
const STORE_RETRY_MS = 1_000;

type Saga = (events$: Observable<IEvent>) => Observable<ICommand>;

export type ConsumerState = 'catching_up' | 'rebuilding' | 'live' | 'stopped';

export interface ConsumerStatus {
  name: string;
  kind: 'projection' | 'reactor';
  state: ConsumerState;
  /** The log has been seen up to here (every event of its types before it handled or parked). */
  position: string | null;
  /** Events of its types read from the log but not handled yet; null while it reads behind the window. */
  lag: number | null;
  /** Events parked (failed, or waiting behind a failure of the same partition). */
  parked: number;
  /** Since when it has had events to handle without handling any (ms since epoch), or null. */
  stalledSince: number | null;
}

export interface RetryOutcome {
  consumer: string;
  partition: string;
  handled: number;
  stillParked: number;
  error: string | null;
}

interface Running {
  options: StoreConsumerOptions;
  kind: 'projection' | 'reactor';
  version: number;
  types: Set<string>;
  handler: StoreConsumerHandler;
  sagas: Saga[];
  position: Position;
  /** The position last written as checkpoint. */
  stored: Position;
  state: ConsumerState;
  parkedPartitions: Set<string>;
  waiters: Set<() => void>;
  wake: Signal;
  retries: { partition: string | null; resolve(outcomes: RetryOutcome[]): void; reject(error: unknown): void }[];
  busySince: number | null;
  loop?: Promise<void>;
  /** A projection building from zero: creates its query indexes once it reaches the head (see queryIndexes). */
  createIndexes?: () => void;
}

export interface RebuildOptions {
  /** Per projection, the last position to apply (a live checkpoint); projections not named go to the end. */
  upTo?: ReadonlyMap<string, Position>;
  /** Called after each page with the number of events read so far. */
  onProgress?(events: number): void;
  /**
   * Let the event loop run between pages (audit's replay, beside live traffic). Off by default: a caller that
   * compares with the live tables right after must read them as they were, with nothing applied in between.
   */
  yieldBetweenPages?: boolean;
}

/** Where `asOf` stops: at a position of the log, or at a time (both: whichever comes first). */
export interface AsOfCut {
  position?: Position;
  time?: Date;
}

/** Recorded at or before the cut. */
export const isWithin = (recorded: RecordedEvent, cut: AsOfCut): boolean =>
  (!cut.position || comparePositions(recorded.position, cut.position) <= 0) && (!cut.time || recorded.created.getTime() <= cut.time.getTime());

export interface Rebuilt {
  /** A scratch in-memory read-model database holding every projection's tables as rebuilt. */
  database: ReadModelDatabase;
  events: number;
  projections: { name: string; tables: string[]; failed: number }[];
}

const describe = (error: unknown): string => truncateText(error instanceof Error ? `${error.name}: ${error.message}` : String(error), 2_000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const later = (a: Position, b: Position): Position => (comparePositions(a, b) >= 0 ? a : b);

/**
 * The read-side engine. Every @StoreConsumer is fed from one LogReader: each committed page of the log is
 * read and decoded once and handed to the consumers that want its types. A projection handles a batch
 * synchronously in one read-model transaction together with its checkpoint; a reactor handles event by event
 * and checkpoints after the batch. An event that still fails after its retries is parked — recorded with its
 * error, listed, counted — and only its partition (by default its stream: one incident, one delivery) waits
 * behind it; every other partition, and every other consumer, goes on. A parked partition is retried in log
 * order, on demand, once the code is fixed.
 *
 * Sagas are run one event at a time (`saga(of(event))`): an error in one event's pipeline ends only that
 * little stream, never the saga — the well-known way an @nestjs/cqrs saga silently dies.
 */
@Injectable()
export class ReadSideRunner implements OnModuleInit {
  private readonly logger = new Logger('ReadSide');
  private readonly consumers = new Map<string, Running>();
  private readonly parked: ParkedEvents;
  private reader?: LogReader;
  private stopping = false;
  /** Event type → the consumers read-your-writes waits for (catchUpReaders). */
  private readersByType?: Map<string, string[]>;
  /** Why the read side stopped on its own (see failed), or null. */
  failure: string | null = null;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly moduleRef: ModuleRef,
    private readonly commandBus: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_DATABASE) private readonly readModels: ReadModelDatabase,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.parked = new ParkedEvents(readModels);
    readModels.onCommitFailed = (error) => this.failed(error);
  }

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as StoreConsumerHandler | undefined;
      if (!instance || !wrapper.metatype) continue;
      const options = Reflect.getMetadata(STORE_CONSUMER, wrapper.metatype) as StoreConsumerOptions | undefined;
      if (!options) continue;
      if (this.consumers.has(options.name)) throw new Error(`Two store consumers are named '${options.name}'`);
      const sagaKeys = (Reflect.getMetadata(SAGA_METADATA, wrapper.metatype) ?? []) as string[];
      const sagas = sagaKeys.map((key) => (instance as unknown as Record<string, Saga>)[key].bind(instance));
      const kind = options.kind ?? 'projection';
      if (!instance.handle && sagas.length === 0) throw new Error(`Store consumer '${options.name}' has no handle() and no @Saga()`);
      if (kind === 'projection' && sagas.length > 0) throw new Error(`Projection '${options.name}' has @Saga()s: make it a reactor`);
      (options.tables ?? []).forEach(tableName);
      this.consumers.set(options.name, {
        options,
        kind,
        version: options.version ?? 1,
        types: new Set(options.events.map(eventTypeOf)),
        handler: instance,
        sagas,
        position: BEFORE_START,
        stored: BEFORE_START,
        state: 'catching_up',
        parkedPartitions: new Set(),
        waiters: new Set(),
        wake: new Signal(),
        retries: [],
        busySince: null,
      });
    }
  }

  /**
   * Called by the app factory once the whole application is initialised: sagas dispatch commands, and the
   * CommandBus only knows its handlers after every onApplicationBootstrap has run.
   */
  start(): void {
    for (const running of this.consumers.values()) this.restore(running);
    const positions = [...this.consumers.values()].map((r) => r.position);
    const types = new Set([...this.consumers.values()].flatMap((r) => [...r.types]));
    this.reader = new LogReader(
      this.store,
      this.config.readSide.window,
      () => [...this.consumers.values()].filter((r) => r.state !== 'stopped').map((r) => r.position),
      [...types].sort(),
    );
    this.reader.start(positions.reduce(later, BEFORE_START));
    for (const running of this.consumers.values()) running.loop = this.run(running);
  }

  /** Stops every consumer after its in-flight batch; called by CoreModule before the store closes. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const running of this.consumers.values()) running.wake.notify();
    // Wakes whoever waits on a consumer (catchUp): a reactor's batch waiting on a projection that is stopping
    // would otherwise hold the stop for ever.
    for (const running of this.consumers.values()) running.waiters.forEach((wake) => wake());
    this.reader?.grown.notify();
    await Promise.all([...this.consumers.values()].map((running) => running.loop));
    await this.reader?.stop();
    for (const running of this.consumers.values()) {
      // What was seen since the last checkpoint write (events other consumers handle, checkpoints past
      // foreign ones) is recorded too, so the next start does not read it again.
      if (!this.failure) this.checkpoint(running, running.position, true);
      running.state = 'stopped';
      running.waiters.forEach((wake) => wake());
    }
  }

  status(): ConsumerStatus[] {
    const counts = this.parked.counts();
    return [...this.consumers.values()].map((r) => ({
      name: r.options.name,
      kind: r.kind,
      // Live once, but fallen out of the window since (slower than the rest): catching up again.
      state: r.state === 'live' && this.reader && !this.reader.covers(r.position) ? 'catching_up' : r.state,
      position: r.position === BEFORE_START ? null : encodePosition(r.position),
      lag: this.reader ? this.pending(r) : null,
      parked: counts.get(r.options.name) ?? 0,
      stalledSince: r.busySince,
    }));
  }

  /** Parked events, oldest first, of one consumer or all. */
  parkedEvents(consumer: string | null = null, limit = 100): ParkedEvent[] {
    if (consumer !== null && !this.consumers.has(consumer)) throw new Error(`No store consumer named '${consumer}'`);
    return this.parked.list(consumer, limit);
  }

  /** Whether something an event of `partition` touches is held back by a parked event in any consumer. */
  isParked(partition: string): boolean {
    return [...this.consumers.values()].some((r) => r.parkedPartitions.has(partition));
  }

  /**
   * Handles a consumer's parked events again, partition by partition in log order, stopping at the first one
   * that still fails; runs inside the consumer's own loop, between batches, so nothing overtakes it.
   */
  retryParked(consumer: string, partition: string | null = null): Promise<RetryOutcome[]> {
    const running = this.consumers.get(consumer);
    if (!running) throw new Error(`No store consumer named '${consumer}'`);
    return new Promise((resolve, reject) => {
      running.retries.push({ partition, resolve, reject });
      running.wake.notify();
    });
  }

  consumerNames(): string[] {
    return [...this.consumers.keys()];
  }

  /** The projections' positions now: what a scratch rebuild compares the live read models at. */
  projectionPositions(): Map<string, Position> {
    return new Map([...this.consumers.values()].filter((r) => r.kind === 'projection').map((r) => [r.options.name, r.position]));
  }

  /**
   * Read-your-writes: resolves once the named consumers have seen the log up to `position` (the position a
   * command's append returned), or after `timeoutMs`, so an API answer reflects its own write. A consumer
   * moves past an event it parked too: a parked event must not make every request wait.
   */
  async catchUp(names: string[], position: Position, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const name of names) {
      const running = this.consumers.get(name);
      if (!running) throw new Error(`No store consumer named '${name}'`);
      while (!this.stopping && running.state !== 'stopped' && comparePositions(running.position, position) < 0) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          this.logger.warn(`Consumer '${name}' did not reach ${position.commit} in ${timeoutMs} ms`);
          return;
        }
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            running.waiters.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, remaining);
          running.waiters.add(wake);
        });
      }
      // Cut short by a stop: whoever waited (a reactor deciding on what the read model shows) must not go on
      // as if it had been reached — its batch fails and, the engine stopping, is handled again at the next start.
      if (comparePositions(running.position, position) < 0) throw new Error(`The read side stopped before '${name}' reached ${encodePosition(position)}`);
    }
  }

  /**
   * Read-your-writes by event type (read-your-writes.ts): waits for every projection that reads one of `types`,
   * so that nothing the caller reads next can miss the write. Not for a reactor, whose side effects (a triage
   * run, a delivery) follow the answer — unless it declares them `partOfAnswer`.
   */
  async catchUpReaders(types: ReadonlySet<string>, position: Position, timeoutMs?: number): Promise<void> {
    // On every answer that wrote: the consumers by type are worked out once, then only looked up.
    this.readersByType ??= this.answerReadersByType();
    const names = new Set<string>();
    for (const type of types) for (const name of this.readersByType.get(type) ?? []) names.add(name);
    await this.catchUp([...names], position, timeoutMs);
  }

  private answerReadersByType(): Map<string, string[]> {
    const byType = new Map<string, string[]>();
    for (const r of this.consumers.values()) {
      if (r.kind !== 'projection' && r.options.partOfAnswer !== true) continue;
      for (const type of r.types) byType.set(type, [...(byType.get(type) ?? []), r.options.name]);
    }
    return byType;
  }

  /**
   * Time travel (`?as_of=`): a fresh instance of the projection `type`, on a scratch in-memory database, fed
   * the `events` it reads (a resource's own streams, as `readStreams` gives them) in log order up to the cut — a
   * position, or a time (events recorded at or before it). `query` reads it like the live one, so an answer
   * shows the read model as it stood then; the scratch database is closed after. Only for read models whose
   * rows come from those streams alone.
   */
  asOf<T extends StoreConsumerHandler, R>(type: Type<T>, events: readonly RecordedEvent[], cut: AsOfCut, query: (projection: T) => R): R {
    const running = [...this.consumers.values()].find((r) => r.handler.constructor === type && r.kind === 'projection');
    if (!running) throw new Error(`${type.name} is not a projection of this application`);
    const database = new ReadModelDatabase(':memory:');
    try {
      const instance = this.instantiate(type, database) as T;
      database.transaction(() => {
        for (const entry of events) {
          if (!isWithin(entry, cut)) break;
          if (!running.types.has(entry.type)) continue;
          const event = hydrate(entry);
          if (event) this.applySync(instance, event, contextOf(entry));
        }
      });
      database.flush();
      return query(instance);
    } finally {
      database.close();
    }
  }

  /** The events of `streams` (none for a stream that does not exist), in log order: what `asOf` folds. */
  async readStreams(streams: string[]): Promise<RecordedEvent[]> {
    const recorded: RecordedEvent[] = [];
    for (const stream of streams) {
      try {
        recorded.push(...(await this.store.readStream(stream)));
      } catch (error) {
        if (!(error instanceof StreamNotFound)) throw error;
      }
    }
    return recorded.sort((a, b) => comparePositions(a.position, b.position));
  }

  /**
   * A scratch rebuild of every projection (never a reactor: replaying side effects is not a rebuild) from
   * position zero, through fresh instances of the same code on an in-memory database, each fed exactly the
   * types it names in log order, each stopping at its `upTo` position. Comparing its tables with the live
   * ones proves the read models are what the log says. Events that fail are skipped with their partition,
   * as the live engine parks them.
   */
  async rebuild(options: RebuildOptions = {}): Promise<Rebuilt> {
    const database = new ReadModelDatabase(':memory:');
    const projections = [...this.consumers.values()]
      .filter((r) => r.kind === 'projection')
      .map((r) => ({
        running: r,
        instance: this.instantiate(r.handler.constructor as Type<StoreConsumerHandler>, database),
        upTo: options.upTo?.get(r.options.name),
        blocked: new Set<string>(),
        failed: 0,
      }));
    const createIndexes = projections.map((p) => database.deferIndexes(p.running.options.queryIndexes ?? []));
    const byType = new Map<string, typeof projections>();
    for (const projection of projections) {
      for (const type of projection.running.types) byType.set(type, [...(byType.get(type) ?? []), projection]);
    }
    const end = options.upTo ? [...options.upTo.values()].reduce(later, BEFORE_START) : undefined;
    let after: Position | undefined;
    let events = 0;
    for (;;) {
      // Unfiltered: the projections want nearly every event, and a plain scan in log order is the cheapest read.
      const page = await this.store.readAll({ after, maxCount: STORE_PAGE });
      // Each projection's share of the page, in log order: decoded once, then folded projection by projection.
      const shares = new Map<(typeof projections)[number], { event: IEvent; context: EventContext }[]>();
      for (const recorded of page) {
        if (end && comparePositions(recorded.position, end) > 0) break;
        events += 1;
        const projectionsOfType = byType.get(recorded.type);
        const event = projectionsOfType && hydrate(recorded);
        if (!event) continue;
        const context = contextOf(recorded);
        for (const projection of projectionsOfType) {
          if (projection.upTo && comparePositions(recorded.position, projection.upTo) > 0) continue;
          const share = shares.get(projection);
          if (share) share.push({ event, context });
          else shares.set(projection, [{ event, context }]);
        }
      }
      database.transaction(() => {
        for (const [projection, share] of shares) {
          const apply = ({ event, context }: (typeof share)[number], isolated: boolean) => {
            const partition = projection.instance.partitionOf?.(event, context) ?? context.stream;
            if (projection.blocked.has(partition)) return;
            if (!isolated) return this.applySync(projection.instance, event, context);
            try {
              database.transaction(() => this.applySync(projection.instance, event, context));
            } catch {
              projection.blocked.add(partition);
              projection.failed += 1;
            }
          };
          // As live: the share in one savepoint; only a share with a failure is redone event by event.
          try {
            database.transaction(() => share.forEach((item) => apply(item, false)));
          } catch {
            share.forEach((item) => apply(item, true));
          }
        }
      });
      // Committed page by page: one transaction over a whole replay makes every savepoint inside it slower.
      database.flush();
      options.onProgress?.(events);
      // The store's reads resolve at once: without a macrotask between pages, nothing else runs meanwhile.
      if (options.yieldBetweenPages) await new Promise((resolve) => setImmediate(resolve));
      const last = page.at(-1);
      if (page.length < STORE_PAGE || !last || (end && comparePositions(last.position, end) >= 0)) break;
      after = last.position;
    }
    database.transaction(() => createIndexes.forEach((create) => create()));
    database.flush();
    return {
      database,
      events,
      projections: projections.map((p) => ({ name: p.running.options.name, tables: p.running.options.tables ?? [], failed: p.failed })),
    };
  }

  /**
   * A read-model commit failed (disk full, I/O error): the rows and checkpoints of that group are gone while
   * the consumers moved on in memory, so the read side stops — readiness then says why — and a restart resumes
   * every consumer from its stored checkpoint.
   */
  private failed(error: unknown): void {
    this.logger.error(`Committing read models failed: ${describe(error)}; the read side stops until the instance is restarted`);
    this.failure = describe(error);
    void this.stop();
  }

  /** Loads a consumer's checkpoint and parked partitions; a projection of another version starts over. */
  private restore(running: Running): void {
    const { name } = running.options;
    const stored = this.readModels.consumerState(name);
    if (stored && running.kind === 'projection' && stored.version !== running.version) {
      if (!running.options.tables) throw new Error(`Projection '${name}' changed version but declares no tables to rebuild`);
      this.logger.warn(`Read model '${name}' is version ${stored.version}, this build's is ${running.version}: rebuilding it from zero`);
      this.readModels.reset(name, running.options.tables);
      this.parked.forget(name);
      running.state = 'rebuilding';
    } else if (stored) {
      running.position = stored.position;
      running.stored = stored.position;
    }
    // From zero (new, or rebuilt for a new version), its query indexes are built once after the head is reached.
    if (running.kind === 'projection' && running.position === BEFORE_START && running.options.queryIndexes?.length) {
      running.createIndexes = this.readModels.deferIndexes(running.options.queryIndexes);
    }
    running.parkedPartitions = this.parked.partitions(name);
  }

  private async run(running: Running): Promise<void> {
    while (!this.stopping) {
      try {
        if (running.retries.length > 0) {
          await this.runRetries(running);
          continue;
        }
        const reader = this.reader!;
        if (reader.covers(running.position)) {
          const entries = reader.after(running.position, running.kind === 'projection' ? BATCH : REACTOR_BATCH);
          if (entries.length === 0 && comparePositions(reader.headPosition, running.position) > 0) {
            // Nothing left in the window, but the log was read further (past events no consumer handles).
            await this.handleBatch(running, [], reader.headPosition);
            this.reader!.moved();
            continue;
          }
          if (entries.length === 0) {
            this.becameLive(running);
            running.busySince = null;
            await Promise.race([reader.grown.wait(), running.wake.wait()]);
            continue;
          }
          running.busySince ??= Date.now();
          await this.handleBatch(running, entries, entries[entries.length - 1].position);
        } else {
          // Behind the window: read this consumer's own types from the store. A short page is everything
          // stored up to now, so the window, which started before that read, takes over from its start.
          const windowStart = reader.windowStart;
          const page = await this.store.readAll({
            after: running.position === BEFORE_START ? undefined : running.position,
            maxCount: STORE_PAGE,
            filter: { eventTypes: [...running.types] },
          });
          const entries = page.map((recorded) => new LogEntry(recorded));
          const last = entries.at(-1)?.position ?? running.position;
          await this.handleBatch(running, entries, page.length < STORE_PAGE ? later(last, windowStart) : last);
        }
        running.busySince = null;
        this.reader!.moved();
      } catch (error) {
        if (this.stopping) return;
        // The store or the read-model file failed, not an event (events are parked): try again shortly.
        this.logger.error(`Consumer '${running.options.name}' could not read or record: ${describe(error)}`);
        await sleep(STORE_RETRY_MS);
      }
    }
  }

  private becameLive(running: Running): void {
    if (running.state === 'live') return;
    if (running.createIndexes) {
      // Before the checkpoint, in its commit: a crash before it leaves them to the projection's own CREATE INDEX.
      const create = running.createIndexes;
      running.createIndexes = undefined;
      this.readModels.transaction(create);
    }
    // Recorded at once: a consumer that only ever skips would otherwise restart from its old checkpoint.
    this.checkpoint(running, running.position, true);
    if (running.state === 'rebuilding') this.logger.log(`Read model '${running.options.name}' is rebuilt`);
    running.state = 'live';
  }

  /** Handles `entries` (in log order) and records that the log was seen up to `seen`. */
  private async handleBatch(running: Running, entries: LogEntry[], seen: Position): Promise<void> {
    const mine = entries.filter((entry) => running.types.has(entry.recorded.type) && entry.event);
    if (running.kind === 'projection') await this.projectBatch(running, mine, seen);
    else await this.reactBatch(running, mine, seen);
  }

  private async projectBatch(running: Running, entries: LogEntry[], seen: Position): Promise<void> {
    if (entries.length === 0) {
      this.checkpoint(running, seen, false);
      this.advance(running, seen);
      return;
    }
    if (this.projectOptimistically(running, entries, seen)) return;
    let next = 0;
    while (next < entries.length) {
      let failure: { entry: LogEntry; error: unknown } | undefined;
      this.readModels.transaction(() => {
        for (; next < entries.length; next++) {
          const entry = entries[next];
          if (this.parkedBehind(running, entry)) continue;
          try {
            // Nested: a failing event's writes are rolled back alone, the batch's stay.
            this.readModels.transaction(() => this.applySync(running.handler, entry.event!, contextOf(entry.recorded)));
          } catch (error) {
            failure = { entry, error };
            break;
          }
        }
        const upTo = failure ? (next > 0 ? entries[next - 1].position : running.position) : seen;
        this.checkpoint(running, upTo, true);
      });
      this.advance(running, failure ? (next > 0 ? entries[next - 1].position : running.position) : seen);
      if (!failure) return;
      // Failed inside the batch: what came before it is committed. Now it alone, a few more times, then parked.
      const { entry } = failure;
      let error = failure.error;
      for (let attempt = 2; attempt <= ATTEMPTS && !this.stopping; attempt++) {
        await sleep(RETRY_BASE_MS * 2 ** attempt);
        try {
          this.readModels.transaction(() => {
            this.applySync(running.handler, entry.event!, contextOf(entry.recorded));
            this.checkpoint(running, entry.position, true);
          });
          error = undefined;
          break;
        } catch (retryError) {
          error = retryError;
        }
      }
      if (this.stopping && error !== undefined) return;
      if (error !== undefined) {
        this.readModels.transaction(() => {
          this.park(running, entry, error, ATTEMPTS);
          this.checkpoint(running, entry.position, true);
        });
      }
      this.advance(running, entry.position);
      next += 1;
    }
    this.checkpoint(running, seen, true);
    this.advance(running, seen);
  }

  /**
   * The whole batch and its checkpoint in one savepoint, with none per event: a savepoint costs about as much
   * as a projection's write, and events almost never fail. False when one did: its writes, and the whole
   * batch's, are rolled back (a projection's handle only writes its tables), and the caller replays the batch
   * event by event to commit what precedes the failure and isolate it.
   */
  private projectOptimistically(running: Running, entries: LogEntry[], seen: Position): boolean {
    try {
      this.readModels.transaction(() => {
        for (const entry of entries) {
          if (!this.parkedBehind(running, entry)) this.applySync(running.handler, entry.event!, contextOf(entry.recorded));
        }
        this.checkpoint(running, seen, true);
      });
    } catch {
      return false;
    }
    this.advance(running, seen);
    return true;
  }

  /**
   * A reactor's batch: partition by partition, up to `concurrency` partitions at once, each in log order. The
   * consumer's position moves only once the whole batch is done, so "seen up to here" stays true.
   */
  private async reactBatch(running: Running, entries: LogEntry[], seen: Position): Promise<void> {
    const partitions = new Map<string, LogEntry[]>();
    for (const entry of entries) {
      const key = this.partitionOf(running, entry.event!, contextOf(entry.recorded));
      const list = partitions.get(key);
      if (list) list.push(entry);
      else partitions.set(key, [entry]);
    }
    const queue = [...partitions.entries()];
    const worker = async () => {
      for (let next = queue.shift(); next && !this.stopping; next = queue.shift()) {
        for (const entry of next[1]) if (!(await this.reactOne(running, entry, next[0]))) return;
      }
    };
    await Promise.all(Array.from({ length: Math.min(running.options.concurrency ?? 1, queue.length) }, worker));
    if (this.stopping) return;
    this.advance(running, seen);
    this.checkpoint(running, seen, entries.length > 0);
  }

  /** Handles one event with its retries, parking it if they all fail; false when stopping cut it short. */
  private async reactOne(running: Running, entry: LogEntry, partition: string): Promise<boolean> {
    if (running.parkedPartitions.has(partition)) {
      this.readModels.transaction(() => this.parked.park(this.parkInput(running, entry, partition, null, 0)));
      return true;
    }
    let error: unknown;
    for (let attempt = 1; attempt <= ATTEMPTS + 1; attempt++) {
      try {
        await this.react(running, entry);
        return true;
      } catch (reactionError) {
        error = reactionError;
        if (this.stopping) return false;
        if (attempt <= ATTEMPTS) await sleep(RETRY_BASE_MS * 2 ** attempt);
      }
    }
    this.readModels.transaction(() => this.park(running, entry, error, ATTEMPTS + 1));
    return true;
  }

  private async react(running: Running, entry: LogEntry): Promise<void> {
    const { recorded } = entry;
    const event = entry.event!;
    const context = contextOf(recorded);
    const correlationId = typeof recorded.metadata.$correlationId === 'string' ? recorded.metadata.$correlationId : recorded.id;
    await runWithContext({ correlationId, causationId: recorded.id, actor: `system:${running.options.name}` }, async () => {
      await running.handler.handle?.(event, context);
      for (const saga of running.sagas) {
        const commands = await lastValueFrom(saga(of(event)).pipe(toArray()));
        for (const command of commands) await this.commandBus.execute(command);
      }
    });
  }

  /** A projection's handle must not await: its writes and its checkpoint share one synchronous transaction. */
  private applySync(handler: StoreConsumerHandler, event: IEvent, context: EventContext): void {
    const result = handler.handle?.(event, context);
    if (result instanceof Promise) throw new Error(`${handler.constructor.name}.handle returned a promise: projections must be synchronous`);
  }

  /** Parks the entry behind an earlier failure of its partition (written in the caller's transaction). */
  private parkedBehind(running: Running, entry: LogEntry): boolean {
    const partition = this.partitionOf(running, entry.event!, contextOf(entry.recorded));
    if (!running.parkedPartitions.has(partition)) return false;
    this.readModels.transaction(() => this.parked.park(this.parkInput(running, entry, partition, null, 0)));
    return true;
  }

  private park(running: Running, entry: LogEntry, error: unknown, attempts: number): void {
    const partition = this.partitionOf(running, entry.event!, contextOf(entry.recorded));
    const { recorded } = entry;
    this.logger.error(
      `Consumer '${running.options.name}' parked event ${recorded.id} (${recorded.type}, ${recorded.stream}@${recorded.revision}) ` +
        `after ${attempts} attempts; partition '${partition}' waits behind it: ${describe(error)}`,
    );
    this.parked.park(this.parkInput(running, entry, partition, describe(error), attempts));
    running.parkedPartitions.add(partition);
  }

  private parkInput(running: Running, entry: LogEntry, partition: string, error: string | null, attempts: number) {
    const { recorded } = entry;
    return {
      consumer: running.options.name,
      partition,
      position: recorded.position,
      eventId: recorded.id,
      stream: recorded.stream,
      revision: recorded.revision,
      type: recorded.type,
      error,
      attempts,
    };
  }

  private partitionOf(running: Running, event: IEvent, context: EventContext): string {
    return running.handler.partitionOf?.(event, context) ?? context.stream;
  }

  /**
   * Writes the checkpoint when the consumer handled something, or when it has only skipped other consumers'
   * events for a while — so a restart need not read them again, without a write per page.
   */
  private checkpoint(running: Running, position: Position, handled: boolean): void {
    if (comparePositions(position, running.stored) <= 0) return;
    const skipped = position.commit - (running.stored === BEFORE_START ? 0n : running.stored.commit);
    if (!handled && skipped < BigInt(IDLE_CHECKPOINT_EVERY)) return;
    this.readModels.storeCheckpoint(running.options.name, position, running.version);
    running.stored = position;
  }

  private advance(running: Running, position: Position): void {
    if (comparePositions(position, running.position) <= 0) return;
    running.position = position;
    const waiters = [...running.waiters];
    waiters.forEach((wake) => wake());
  }

  private pending(running: Running): number | null {
    return this.reader!.lag(running.position) === null
      ? null
      : this.reader!.after(running.position, Number.MAX_SAFE_INTEGER).filter((e) => running.types.has(e.recorded.type)).length;
  }

  private async runRetries(running: Running): Promise<void> {
    const requests = running.retries.splice(0);
    for (const request of requests) {
      try {
        const partitions = request.partition === null ? [...running.parkedPartitions] : [request.partition];
        const outcomes: RetryOutcome[] = [];
        for (const partition of partitions) outcomes.push(await this.retryPartition(running, partition));
        request.resolve(outcomes);
      } catch (error) {
        request.reject(error);
      }
    }
  }

  private async retryPartition(running: Running, partition: string): Promise<RetryOutcome> {
    const name = running.options.name;
    const rows = this.parked.ofPartition(name, partition);
    let handled = 0;
    for (const row of rows) {
      const [recorded] = await this.store.readStream(row.stream, { fromRevision: row.revision, maxCount: 1 });
      const entry = new LogEntry(recorded);
      try {
        if (!entry.event) throw new Error(`Event type '${recorded.type}' is not known to this build`);
        if (running.kind === 'projection') {
          this.readModels.transaction(() => {
            this.applySync(running.handler, entry.event!, contextOf(recorded));
            this.parked.remove(row.seq);
          });
        } else {
          await this.react(running, entry);
          this.parked.remove(row.seq);
        }
        handled += 1;
      } catch (error) {
        this.parked.failedAgain(row.seq, describe(error), 1);
        this.logger.warn(`Retry of parked event ${row.eventId} in '${name}' failed again: ${describe(error)}`);
        return { consumer: name, partition, handled, stillParked: rows.length - handled, error: describe(error) };
      }
    }
    running.parkedPartitions.delete(partition);
    this.logger.log(`Consumer '${name}' handled the ${handled} parked events of '${partition}'`);
    return { consumer: name, partition, handled, stillParked: 0, error: null };
  }

  /**
   * A fresh instance of a projection class on another read-model database: its other constructor arguments
   * (settings, pure helpers) are resolved from the application as Nest resolved them for the live one.
   */
  private instantiate(metatype: Type<StoreConsumerHandler>, database: ReadModelDatabase): StoreConsumerHandler {
    const params = (Reflect.getMetadata(PARAMTYPES_METADATA, metatype) ?? []) as unknown[];
    const declared = (Reflect.getMetadata(SELF_DECLARED_DEPS_METADATA, metatype) ?? []) as { index: number; param: unknown }[];
    const tokens = params.map((type, index) => declared.find((d) => d.index === index)?.param ?? type);
    const args = tokens.map((token) =>
      token === READ_MODEL_DATABASE || token === ReadModelDatabase ? database : this.moduleRef.get(token as string, { strict: false }),
    );
    return new metatype(...args);
  }
}
