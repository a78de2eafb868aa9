import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import { StreamNotFound, WrongExpectedVersion } from '../event-store/event-store.errors';
import { randomUUID } from 'node:crypto';
import {
  EVENT_STORE,
  type AppendResult,
  type EventStore,
  type JsonObject,
  type EventData,
  type ExpectedRevision,
  type RecordedEvent,
} from '../event-store/event-store.port';
import { conflict } from '../http/app-error';
import { hydrate, toEventData } from './domain-event';
import { noteWrite } from './read-your-writes';
import { eventMetadata, organisationNamedBy } from './request-context';

/** An aggregate as a fold over its stream (the decider pattern): state is never stored, only derived. */
export interface Aggregate<S> {
  initial(): S;
  evolve(state: S, event: IEvent): S;
}

export interface Loaded<S> {
  state: S;
  revision: ExpectedRevision;
  /** The stream as recorded (positions, metadata): for timelines and for keys derived from history. */
  recorded: RecordedEvent[];
}

/** An event with the id it must be stored under: the same decision retried names the same event. */
export class KeyedEvent {
  constructor(
    readonly event: IEvent,
    readonly id: string,
  ) {}
}

/**
 * Names the id of a decided event. Triage keys its steps this way (incident + run + step), so that a step
 * retried after a crash, or decided by two instances at once, is stored once: the store refuses the twin.
 */
export const keyed = (event: IEvent, id: string): KeyedEvent => new KeyedEvent(event, id);

/**
 * May await (an incident claims its number while deciding to open): it still runs inside the stream's
 * queue, so the stream is read once per attempt and nothing else in this process decides on it meanwhile.
 */
export type Decision<S> = (state: S, history: RecordedEvent[]) => (IEvent | KeyedEvent)[] | Promise<(IEvent | KeyedEvent)[]>;

export interface Decided<S> {
  state: S;
  events: IEvent[];
  /** null when the decision produced no events (an idempotent no-op). */
  appended: AppendResult | null;
}

const MAX_ATTEMPTS = 5;

/**
 * Command side: load an aggregate from its stream, decide, append with the revision that was loaded. A
 * concurrent writer makes the append fail; the command is then re-decided on the fresh state, a bounded
 * number of times, and finally answered 409 `conflict` — never silently overwritten.
 */
@Injectable()
export class AggregateStore {
  private readonly logger = new Logger(AggregateStore.name);
  /** Tail of the queue of commands per stream in this process. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async load<S>(stream: string, aggregate: Aggregate<S>): Promise<Loaded<S>> {
    let recorded: RecordedEvent[] = [];
    try {
      recorded = await this.store.readStream(stream);
    } catch (error) {
      if (!(error instanceof StreamNotFound)) throw error;
    }
    let state = aggregate.initial();
    for (const event of recorded) {
      const hydrated = hydrate(event);
      if (hydrated) state = aggregate.evolve(state, hydrated);
    }
    return { state, revision: recorded.length ? recorded[recorded.length - 1].revision : 'no_stream', recorded };
  }

  /**
   * `decide` may throw an AppError to refuse the command; it runs again after a concurrency conflict.
   * Commands on one stream are queued in this process, so they never conflict with each other; the retries
   * are for writers in other processes (several instances on one EventStoreDB).
   */
  execute<S>(stream: string, aggregate: Aggregate<S>, decide: Decision<S>): Promise<Decided<S>> {
    const previous = this.queues.get(stream) ?? Promise.resolve();
    const run = previous.then(() => this.decideAndAppend(stream, aggregate, decide));
    const tail = run.catch(() => undefined);
    this.queues.set(stream, tail);
    void tail.then(() => {
      if (this.queues.get(stream) === tail) this.queues.delete(stream);
    });
    return run;
  }

  /**
   * The one way to write without deciding on an aggregate's state: for streams whose only rule is their expected
   * revision — a receipt (`no_stream`: one per request), a claim, a record that follows another (`0n`). Same
   * metadata, same read-your-writes bookkeeping as `execute`. Not queued and nothing awaited before the append
   * starts, so a caller can start dependent work in the same turn of the event loop (the inbound hot path joins
   * one group commit that way).
   */
  record(
    stream: string,
    events: (IEvent | KeyedEvent)[],
    options: { expectedRevision?: ExpectedRevision; metadata?: JsonObject } = {},
  ): Promise<AppendResult> {
    const metadata = options.metadata ?? eventMetadata();
    const data: EventData[] = events.map((e) => (e instanceof KeyedEvent ? toEventData(e.event, metadata, e.id) : toEventData(e, metadata)));
    return this.store.append(stream, data, { expectedRevision: options.expectedRevision ?? 'any' }).then((appended) => {
      noteWrite(appended.position, data.map((e) => e.type));
      return appended;
    });
  }

  private async decideAndAppend<S>(stream: string, aggregate: Aggregate<S>, decide: Decision<S>): Promise<Decided<S>> {
    for (let attempt = 1; ; attempt++) {
      const { state, revision, recorded } = await this.load(stream, aggregate);
      const decided = (await decide(state, recorded)).map((e) => (e instanceof KeyedEvent ? e : keyed(e, randomUUID())));
      const events = decided.map((d) => d.event);
      if (events.length === 0) return { state, events, appended: null };
      const metadata = eventMetadata();
      // Events that do not name their organisation (an incident's later steps) take their stream's.
      const organisationId = metadata.organisationId ?? (recorded[0] && organisationNamedBy(recorded[0].data, recorded[0].metadata));
      if (organisationId !== undefined) metadata.organisationId = organisationId;
      try {
        const data = decided.map(({ event, id }) => toEventData(event, metadata, id));
        const appended = await this.store.append(stream, data, { expectedRevision: revision });
        noteWrite(appended.position, data.map((e) => e.type));
        return { state: events.reduce(aggregate.evolve, state), events, appended };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersion)) throw error;
        if (attempt >= MAX_ATTEMPTS) {
          this.logger.warn(`Giving up on ${stream} after ${attempt} conflicting attempts`);
          throw conflict(`The resource changed concurrently; retry the request`);
        }
        // Jittered backoff, so competing instances do not collide again in lockstep.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
  }
}
