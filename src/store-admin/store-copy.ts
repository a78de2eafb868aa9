import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { EventTooLarge, StoreUnavailable, StreamNotFound, WrongExpectedVersion } from '../event-store/event-store.errors';
import {
  EVENT_STORE,
  comparePositions,
  encodePosition,
  type EventData,
  type EventStore,
  type Position,
  type RecordedEvent,
} from '../event-store/event-store.port';
import { appendSize } from '../event-store/append-validation';
import { ConnectionStringError, normalizeConnectionString } from '../event-store/eventstoredb/esdb-client';
import { EventStoreDbEventStore } from '../event-store/eventstoredb/eventstoredb.event-store';
import { SqliteEventStore } from '../event-store/sqlite/sqlite.event-store';
import { sameJson, verifyChain, withoutHash } from '../event-store/hash-chain';
import { AppError, conflict, notFound } from '../http/app-error';
import { PAGE_SIZE, verifyStore, yieldToLoop, type StreamSummary } from './store-verification';

export type CopyState = 'checking' | 'copying' | 'verifying' | 'done' | 'failed';

/** One difference between the source and the target, found by the verification. */
export interface CopyMismatch {
  stream: string;
  /** The revision where it was found; null for the stream as a whole. */
  revision: string | null;
  /** What differs: missing_stream, missing_event, extra_events, revision, id, type, data, metadata, hash, chain. */
  field: string;
  expected?: string;
  actual?: string;
}

export interface CopyReport {
  streams: number;
  events: number;
  /** Every copied stream was read back and matched, and every chain verified. */
  verified: boolean;
  /** At most MAX_LISTED; mismatch_count has them all. */
  mismatches: CopyMismatch[];
  mismatch_count: number;
}

export interface CopyJobView {
  id: string;
  state: CopyState;
  /** The target, credentials left out. */
  to: string;
  started_at: string;
  finished_at: string | null;
  /** The copy's cut: the head of the source when the job started. Later events are not copied. */
  last_position: string | null;
  progress: { events_scanned: number; streams_total: number; events_total: number; events_copied: number; streams_verified: number };
  report: CopyReport | null;
  error: { code: string; message: string; details?: unknown } | null;
}

/** Mismatches listed in the report (all are counted). */
const MAX_LISTED = 100;
/** Finished jobs kept for GET (in memory: a restart forgets them, the target keeps what was copied). */
const KEPT_JOBS = 20;
/** Target streams checked at once before the copy, and verified at once after it. */
const PARALLEL_READS = 8;

/** `esdb://user:password@host…` → `esdb://***@host…`: the job view must not echo a password. */
export function withoutCredentials(connectionString: string): string {
  return connectionString.replace(/^([a-z+]+:\/\/)[^@/?]*@/i, '$1***@');
}

/** Runs `work` over `items` with at most `width` at once. */
async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(lanes);
}

/**
 * Copies the running embedded store to an EventStoreDB node, in log order, then reads every copied stream back
 * and compares it with the source. What is preserved and why the hashes match:
 *
 * - Each stream's events are appended through the port, in runs of consecutive events of one stream (each run
 *   under the maximum append size), with the exact expected revision of the source (`no_stream` for revision
 *   0, else the revision before the run): every event lands at its source revision, and a target stream that
 *   moved meanwhile makes the append fail instead of shifting revisions.
 * - The port writes `metadata.hash` itself (callers may not set it), so the copy hands over the metadata
 *   without it and the EventStoreDB adapter chains it again: `prev`, stream, revision, id (lower case, as
 *   the embedded store requires already), type, data and the rest of the metadata are the source's, so the
 *   recomputed hash is the source's hash. The verification asserts exactly that (metadata is compared whole,
 *   hash included, and each chain verified), and reports every difference as a mismatch.
 * - Before anything is written, the source's own chains are verified (a copy must not launder a tampered
 *   store into freshly valid hashes) and every source stream is checked to be absent from the target.
 *
 * The job reads pages of $all (PAGE_SIZE events) and yields to the event loop between pages and appends, so
 * the API keeps serving while it runs. It copies up to the source's head when it started (`last_position`);
 * events written after that are not copied — for a move, stop the writers first (docs/store.md).
 */
@Injectable()
export class StoreCopy implements BeforeApplicationShutdown {
  private readonly logger = new Logger('StoreCopy');
  private readonly jobs = new Map<string, CopyJobView>();
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  start(to: string): CopyJobView {
    if (!(this.store instanceof SqliteEventStore)) {
      throw new AppError(409, 'copy_source_not_embedded', 'This instance already keeps its events in EventStoreDB: the copy moves an embedded (SQLite) store there');
    }
    if (this.stopping) throw new AppError(503, 'shutting_down', 'The server is shutting down');
    let connectionString: string;
    try {
      connectionString = normalizeConnectionString(to);
    } catch (error) {
      if (error instanceof ConnectionStringError) throw new AppError(400, 'invalid_connection_string', `to: ${error.message}`);
      throw error;
    }
    if (this.running) {
      const current = [...this.jobs.values()].find((job) => job.finished_at === null);
      throw conflict(`A copy is already running (job ${current?.id}): wait for it to finish`, 'copy_in_progress');
    }
    const job: CopyJobView = {
      id: randomUUID(),
      state: 'checking',
      to: withoutCredentials(connectionString),
      started_at: new Date().toISOString(),
      finished_at: null,
      last_position: null,
      progress: { events_scanned: 0, streams_total: 0, events_total: 0, events_copied: 0, streams_verified: 0 },
      report: null,
      error: null,
    };
    let target: EventStore;
    try {
      target = EventStoreDbEventStore.fromConnectionString(connectionString, { maxAppendSize: this.config.maxAppendSize });
    } catch (error) {
      // The client parses the options itself (names, values): what it refuses is the caller's string.
      throw new AppError(400, 'invalid_connection_string', `to: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.remember(job);
    this.running = this.run(job, this.store, target).finally(() => (this.running = undefined));
    return job;
  }

  get(id: string): CopyJobView {
    const job = this.jobs.get(id);
    if (!job) throw notFound(`No copy job ${id} (jobs are kept in memory, the last ${KEPT_JOBS}, until a restart)`);
    return job;
  }

  /** A copy in progress stops at its next page; the target keeps what was written (see docs/store.md). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  private remember(job: CopyJobView): void {
    this.jobs.set(job.id, job);
    for (const [id, old] of this.jobs) {
      if (this.jobs.size <= KEPT_JOBS) break;
      if (old.finished_at !== null) this.jobs.delete(id);
    }
  }

  private async run(job: CopyJobView, source: EventStore, target: EventStore): Promise<void> {
    try {
      const upTo = await source.headPosition();
      job.last_position = upTo ? encodePosition(upTo) : null;
      const scan = upTo
        ? await verifyStore(source, { upTo, onProgress: (n) => (job.progress.events_scanned = n), stopped: () => this.stopping })
        : { events: 0, streams: new Map<string, StreamSummary>(), broken: [] };
      if (scan.broken.length > 0) {
        throw new AppError(409, 'copy_source_chain_broken', `${scan.broken.length} source stream(s) fail hash-chain verification: nothing was copied`, {
          streams: scan.broken.slice(0, MAX_LISTED),
        });
      }
      job.progress.streams_total = scan.streams.size;
      job.progress.events_total = scan.events;
      await this.checkTargetIsFree(target, [...scan.streams.keys()]);

      job.state = 'copying';
      if (upTo) await this.copy(job, source, target, upTo);

      job.state = 'verifying';
      const mismatches: CopyMismatch[] = [];
      let count = 0;
      const report = (mismatch: CopyMismatch) => {
        count += 1;
        if (mismatches.length < MAX_LISTED) mismatches.push(mismatch);
      };
      await inParallel([...scan.streams], PARALLEL_READS, async ([stream, summary]) => {
        if (this.stopping) throw new Error('stopped: the server is shutting down');
        await verifyCopiedStream(source, target, stream, summary, report);
        job.progress.streams_verified += 1;
      });
      job.report = { streams: scan.streams.size, events: scan.events, verified: count === 0, mismatches, mismatch_count: count };
      job.state = 'done';
      this.logger.log(`Copied ${scan.events} events in ${scan.streams.size} streams to ${job.to}: ${count === 0 ? 'verified' : `${count} mismatches`}`);
    } catch (error) {
      job.state = 'failed';
      job.error = describe(error);
      this.logger.warn(`Copy to ${job.to} failed: ${job.error.code}: ${job.error.message}`);
    } finally {
      job.finished_at = new Date().toISOString();
      await target.close().catch(() => undefined);
    }
  }

  /** Every source stream must be absent from the target; with no Towline event there at all, none can be. */
  private async checkTargetIsFree(target: EventStore, streams: string[]): Promise<void> {
    if ((await target.readAll({ maxCount: 1 })).length === 0) return;
    const taken: string[] = [];
    await inParallel(streams, PARALLEL_READS, async (stream) => {
      try {
        await target.readStream(stream, { direction: 'backwards', maxCount: 1 });
        taken.push(stream);
      } catch (error) {
        if (!(error instanceof StreamNotFound)) throw error;
      }
    });
    if (taken.length > 0) {
      throw new AppError(409, 'copy_target_not_empty', `The target already holds ${taken.length} of the streams to copy: copy into an empty node (nothing was written)`, {
        streams: taken.sort().slice(0, MAX_LISTED),
      });
    }
  }

  private async copy(job: CopyJobView, source: EventStore, target: EventStore, upTo: Position): Promise<void> {
    let after: Position | undefined;
    for (;;) {
      if (this.stopping) throw new Error('stopped: the server is shutting down (the target keeps the events copied so far)');
      const page = (await source.readAll({ after, maxCount: PAGE_SIZE })).filter((e) => comparePositions(e.position, upTo) <= 0);
      for (const run of this.runs(page)) {
        await this.append(target, run);
        job.progress.events_copied += run.length;
      }
      if (page.length < PAGE_SIZE) return;
      after = page[page.length - 1].position;
      await yieldToLoop();
    }
  }

  /** Consecutive events of one stream, each run under the maximum append size. */
  private *runs(page: RecordedEvent[]): Generator<RecordedEvent[]> {
    let run: RecordedEvent[] = [];
    let size = 0;
    for (const event of page) {
      const eventSize = appendSize([toEventData(event)]);
      if (run.length > 0 && (run[0].stream !== event.stream || size + eventSize > this.config.maxAppendSize)) {
        yield run;
        run = [];
        size = 0;
      }
      run.push(event);
      size += eventSize;
    }
    if (run.length > 0) yield run;
  }

  private async append(target: EventStore, run: RecordedEvent[]): Promise<void> {
    const first = run[0];
    const last = run[run.length - 1];
    const expectedRevision = first.revision === 0n ? 'no_stream' : first.revision - 1n;
    const result = await target.append(first.stream, run.map(toEventData), { expectedRevision });
    if (result.nextExpectedRevision !== last.revision) {
      throw new AppError(500, 'copy_revision_mismatch', `Stream '${first.stream}': the target put revision ${last.revision} at ${result.nextExpectedRevision}`);
    }
  }

}

/** Reads a copied stream back from the target, page by page beside the source, up to the copied revision. */
export async function verifyCopiedStream(
  source: EventStore,
  target: EventStore,
  stream: string,
  summary: StreamSummary,
  report: (mismatch: CopyMismatch) => void,
): Promise<void> {
  let head: { revision: bigint; hash: string } | undefined;
  for (let from = 0n; from <= summary.lastRevision; from += BigInt(PAGE_SIZE)) {
    const count = Number(summary.lastRevision - from + 1n < BigInt(PAGE_SIZE) ? summary.lastRevision - from + 1n : BigInt(PAGE_SIZE));
    const expected = await source.readStream(stream, { fromRevision: from, maxCount: count });
    let actual: RecordedEvent[];
    try {
      actual = await target.readStream(stream, { fromRevision: from, maxCount: count });
    } catch (error) {
      if (!(error instanceof StreamNotFound)) throw error;
      report({ stream, revision: null, field: 'missing_stream' });
      return;
    }
    expected.forEach((want, i) => {
      const got = actual[i];
      const revision = want.revision.toString();
      if (!got) return report({ stream, revision, field: 'missing_event', expected: want.id });
      if (got.revision !== want.revision) report({ stream, revision, field: 'revision', expected: revision, actual: got.revision.toString() });
      if (got.id !== want.id) report({ stream, revision, field: 'id', expected: want.id, actual: got.id });
      if (got.type !== want.type) report({ stream, revision, field: 'type', expected: want.type, actual: got.type });
      if (!sameJson(got.data, want.data)) report({ stream, revision, field: 'data' });
      if (got.metadata.hash !== want.metadata.hash) {
        report({ stream, revision, field: 'hash', expected: String(want.metadata.hash), actual: String(got.metadata.hash) });
      }
      if (!sameJson(withoutHash(got.metadata), withoutHash(want.metadata))) report({ stream, revision, field: 'metadata' });
    });
    const chain = verifyChain(actual, head);
    if (!chain.ok) {
      report({ stream, revision: chain.revision.toString(), field: 'chain', actual: chain.reason });
      return;
    }
    head = chain.head ?? undefined;
    if (actual.length < expected.length) return;
  }
  const beyond = await target.readStream(stream, { fromRevision: summary.lastRevision + 1n, maxCount: 1 });
  if (beyond.length > 0) report({ stream, revision: beyond[0].revision.toString(), field: 'extra_events' });
}

/** The source's event as an append takes it: the port writes `hash` again (see StoreCopy). */
function toEventData(event: RecordedEvent): EventData {
  return { id: event.id, type: event.type, data: event.data, metadata: withoutHash(event.metadata) };
}

function describe(error: unknown): { code: string; message: string; details?: unknown } {
  if (error instanceof AppError) return { code: error.code, message: error.message, details: error.details };
  if (error instanceof WrongExpectedVersion) {
    return {
      code: 'copy_target_changed',
      message: `Stream '${error.stream}' changed on the target during the copy (expected ${String(error.expected)}, found ${String(error.actual)}): something else writes there`,
    };
  }
  if (error instanceof EventTooLarge) {
    return { code: 'copy_event_too_large', message: `${error.message}: raise TW_MAX_APPEND_SIZE and the node's MaxAppendSize to copy it` };
  }
  if (error instanceof StoreUnavailable) return { code: 'copy_target_unavailable', message: error.message };
  return { code: 'copy_failed', message: error instanceof Error ? error.message : String(error) };
}
