import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { StreamNotFound } from '../event-store/event-store.errors';
import {
  EVENT_STORE,
  comparePositions,
  encodePosition,
  type EventStore,
  type Position,
  type RecordedEvent,
} from '../event-store/event-store.port';
import { hashOf, toLink } from './audit-record';
import { AuditScope } from './audit-scope';
import type { JobProgress } from './audit-jobs';
import { ledgerStream } from './events/ledger.events';
import { AUDIT_SIGNING_KEY } from './ledger-checkpoints.service';
import type { AuditSigningKey } from './signing-key';
import { StreamChecker, fastStep, type ChainBreak, type ChainState } from './verification/chain-check';
import { CHECKPOINT_TYPE, LedgerChecker, expectationBreak, type CheckpointSummary, type Expectation } from './verification/ledger-check';

const PAGE = 1_000;
/** Streams whose state the fast pass keeps; one seen again after being forgotten costs one indexed read. */
const STATE_CACHE = 100_000;
/** Broken streams read again to name their breaks; past this, the rest are reported as found by the fast pass. */
const CLASSIFY_LIMIT = 1_000;
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface Verification {
  streams_checked: number;
  events_checked: number;
  ok: boolean;
  /** The latest checkpoint of each ledger checked (an organisation's key: its own). */
  checkpoint: CheckpointSummary | null;
  checkpoints: CheckpointSummary[];
  breaks: ChainBreak[];
}

/**
 * Verification against the store: each stream's hash chain, and every stream against the signed ledger
 * checkpoints of its organisation. A whole-log run reads the log once in order, keeping a few bytes per stream,
 * and reads again only the streams that broke, to name how; it yields to the event loop between pages.
 */
@Injectable()
export class AuditVerifier {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(AUDIT_SIGNING_KEY) private readonly key: AuditSigningKey,
    private readonly scope: AuditScope,
  ) {}

  async verifyStream(principal: Principal, stream: string): Promise<Verification> {
    const organisation = await this.scope.requireStream(principal, stream);
    const ledger = await this.ledgers([ledgerStream(organisation)]);
    const expectation = latestExpectations(ledger.checker).get(stream);
    const checker = new StreamChecker(stream);
    const breaks: ChainBreak[] = [];
    let found: { hash: string } | null = null;
    let exists = false;
    for await (const event of this.streamEvents(stream)) {
      exists = true;
      checker.push(toLink(event));
      if (expectation && Number(event.revision) === expectation.revision) found = { hash: hashOf(event) };
    }
    breaks.push(...checker.finish());
    if (checker.ok && expectation) {
      const broken = expectationBreak(stream, expectation, found, exists);
      if (broken) breaks.push(broken);
    }
    breaks.push(...ledger.checker.breaks);
    return this.outcome(1, checker.events, breaks, ledger.checker);
  }

  /** Every stream the principal may read (an organisation's key: its own), against its ledger(s). */
  async verifyAll(principal: Principal, progress: JobProgress): Promise<Verification> {
    const confined = this.scope.confinedTo(principal);
    const head = await this.store.headPosition();
    progress.head = head ? encodePosition(head) : null;
    const ledger = await this.ledgers(confined === undefined ? null : [ledgerStream(confined)], head);
    const expectations = latestExpectations(ledger.checker);
    const met = new Set<string>();
    const states = new Map<string, ChainState>();
    const broken = new Set<string>();
    const breaks: ChainBreak[] = [];
    let streams = 0;
    let events = 0;
    let after: Position | undefined;
    for (let done = !head; !done; ) {
      const page = await this.store.readAll({ after, maxCount: PAGE });
      done = page.length < PAGE;
      for (const event of page) {
        if (comparePositions(event.position, head!) > 0) {
          done = true;
          break;
        }
        after = event.position;
        if (confined !== undefined && (await this.scope.organisationOfEvent(event)) !== confined) continue;
        events += 1;
        if (event.revision === 0n) streams += 1;
        const expected = expectations.get(event.stream);
        if (expected && expected.revision === Number(event.revision)) {
          met.add(event.stream);
          const mismatch = expectationBreak(event.stream, expected, { hash: hashOf(event) }, true);
          if (mismatch) breaks.push(mismatch);
        }
        if (broken.has(event.stream)) continue;
        const state = await this.stateBefore(states, event);
        const next = fastStep(state ?? undefined, toLink(event));
        states.delete(event.stream);
        if (!next || state === null) {
          broken.add(event.stream);
          continue;
        }
        if (states.size >= STATE_CACHE) states.delete(states.keys().next().value!);
        states.set(event.stream, next);
      }
      progress.events = events;
      progress.position = after ? encodePosition(after) : null;
      await yieldToLoop();
    }
    // What a checkpoint recorded and the log never showed: a stream removed, or cut before that revision.
    for (const [stream, expectation] of expectations) {
      if (met.has(stream)) continue;
      const exists = await this.exists(stream);
      if (!exists) streams += 1;
      const missing = expectationBreak(stream, expectation, null, exists);
      if (missing) breaks.push(missing);
    }
    // Broken streams, read again in revision order, say what happened to them; a chain break explains a
    // checkpoint mismatch of the same stream, so that is not reported twice.
    const named: ChainBreak[] = [];
    let classified = 0;
    for (const stream of broken) {
      if (classified++ >= CLASSIFY_LIMIT) {
        named.push({ stream, revision: null, kind: 'content_changed', detail: 'the chain is broken (not examined further: too many broken streams)' });
        continue;
      }
      const checker = new StreamChecker(stream);
      for await (const event of this.streamEvents(stream)) checker.push(toLink(event));
      named.push(...checker.finish());
      await yieldToLoop();
    }
    const explained = new Set(named.map((b) => b.stream));
    return this.outcome(streams, events, [...named, ...breaks.filter((b) => !explained.has(b.stream)), ...ledger.checker.breaks], ledger.checker);
  }

  /**
   * The chain state before `event`: remembered, or (forgotten, or first met past revision 0 in a confined
   * scan) the previous event's recorded hash — itself checked when the scan passed it. null: it is missing.
   */
  private async stateBefore(states: Map<string, ChainState>, event: RecordedEvent): Promise<ChainState | null | undefined> {
    const known = states.get(event.stream);
    if (known || event.revision === 0n) return known;
    const [previous] = await this.store.readStream(event.stream, { fromRevision: event.revision - 1n, maxCount: 1 });
    if (!previous || previous.revision !== event.revision - 1n) return null;
    return { next: Number(event.revision), prev: hashOf(previous) };
  }

  /** The checkpoints of the named ledgers (null: every ledger), each ledger also verified as a chain. */
  private async ledgers(names: string[] | null, upTo?: Position): Promise<{ checker: LedgerChecker }> {
    const checker = new LedgerChecker({ key: this.key.publicKey, origin: 'server' });
    if (names) {
      for (const name of names) for await (const event of this.streamEvents(name)) checker.add(toLink(event));
      return { checker };
    }
    let after: Position | undefined;
    for (;;) {
      const page = await this.store.readAll({ after, maxCount: PAGE, filter: { eventTypes: [CHECKPOINT_TYPE] } });
      for (const event of page) {
        if (upTo && comparePositions(event.position, upTo) > 0) return { checker };
        checker.add(toLink(event));
        after = event.position;
      }
      if (page.length < PAGE) return { checker };
    }
  }

  private outcome(streams: number, events: number, breaks: ChainBreak[], ledger: LedgerChecker): Verification {
    const checkpoints = [...ledger.latest.values()];
    const latest = checkpoints.reduce<CheckpointSummary | null>((a, b) => (!a || b.created_at > a.created_at ? b : a), null);
    return { streams_checked: streams, events_checked: events, ok: breaks.length === 0, checkpoint: latest, checkpoints, breaks };
  }

  private async *streamEvents(stream: string): AsyncGenerator<RecordedEvent> {
    let from = 0n;
    for (;;) {
      let page: RecordedEvent[];
      try {
        page = await this.store.readStream(stream, { fromRevision: from, maxCount: PAGE });
      } catch (error) {
        if (error instanceof StreamNotFound) return;
        throw error;
      }
      yield* page;
      if (page.length < PAGE) return;
      from = page[page.length - 1].revision + 1n;
    }
  }

  private async exists(stream: string): Promise<boolean> {
    try {
      await this.store.readStream(stream, { maxCount: 1 });
      return true;
    } catch (error) {
      if (error instanceof StreamNotFound) return false;
      throw error;
    }
  }
}

/** Per stream, the checkpointed head of highest revision: the chain binds every earlier event to it. */
export function latestExpectations(checker: LedgerChecker): Map<string, Expectation> {
  const latest = new Map<string, Expectation>();
  for (const [stream, list] of checker.expectations) {
    latest.set(stream, list.reduce((a, b) => (b.revision > a.revision ? b : a)));
  }
  return latest;
}
