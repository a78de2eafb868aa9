import { comparePositions, type EventStore, type Position } from '../event-store/event-store.port';
import { verifyChain } from '../event-store/hash-chain';

/** $all is read in pages of this many events, with a turn of the event loop between pages. */
export const PAGE_SIZE = 500;

export interface StreamSummary {
  events: number;
  lastRevision: bigint;
}

export interface BrokenStream {
  stream: string;
  revision: string;
  reason: string;
}

export interface StoreVerdict {
  events: number;
  lastPosition: Position | undefined;
  /** Every stream met, in the order of its first event in the log. */
  streams: Map<string, StreamSummary>;
  /** Streams whose hash chain does not verify, each with its first failure. */
  broken: BrokenStream[];
}

/** Lets the event loop serve others between two pages of a long scan. */
export const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Reads the whole log in order (up to `upTo` when given) and verifies every stream's hash chain as it goes
 * (`verifyChain`, continued from each stream's last verified event), so a store of any size is checked in
 * one pass with one head per stream in memory.
 */
export async function verifyStore(
  store: EventStore,
  options: { upTo?: Position; onProgress?(events: number): void; stopped?(): boolean } = {},
): Promise<StoreVerdict> {
  const heads = new Map<string, { revision: bigint; hash: string } | null>();
  const streams = new Map<string, StreamSummary>();
  const broken: BrokenStream[] = [];
  let after: Position | undefined;
  let events = 0;
  for (;;) {
    if (options.stopped?.()) throw new Error('The scan was stopped: the server is shutting down');
    const page = await store.readAll({ after, maxCount: PAGE_SIZE });
    let end = page.length < PAGE_SIZE;
    for (const event of page) {
      if (options.upTo && comparePositions(event.position, options.upTo) > 0) {
        end = true;
        break;
      }
      after = event.position;
      events += 1;
      const summary = streams.get(event.stream);
      if (summary) {
        summary.events += 1;
        summary.lastRevision = event.revision;
      } else {
        streams.set(event.stream, { events: 1, lastRevision: event.revision });
      }
      const head = heads.get(event.stream);
      if (head === null) continue; // broken already: its first failure is the one reported
      const verdict = verifyChain([event], head);
      if (verdict.ok) {
        heads.set(event.stream, verdict.head);
      } else {
        heads.set(event.stream, null);
        broken.push({ stream: event.stream, revision: verdict.revision.toString(), reason: verdict.reason });
      }
    }
    options.onProgress?.(events);
    if (end) break;
    await yieldToLoop();
  }
  return { events, lastPosition: after, streams, broken };
}
