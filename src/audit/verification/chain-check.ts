import { createHash } from 'node:crypto';
import type { JsonObject } from '../../event-store/event-store.port';
import { GENESIS_HASH, chainHash, jcs } from '../../event-store/hash-chain';

/**
 * Pure chain verification, shared by the server (`POST /api/audit/verify`) and the offline verifier
 * (`tw-cli audit verify --file`): nothing here reads a database or a file. Verification says not only that a
 * stream is broken but how — by trying, at the first event that fails, the few tampering hypotheses the hash
 * rule lets one tell apart (docs/audit.md lists them).
 */

export type BreakKind =
  | 'data_changed'
  | 'metadata_changed'
  | 'content_changed'
  | 'deleted'
  | 'inserted'
  | 'swapped'
  | 'reordered'
  | 'truncated'
  | 'stream_missing'
  | 'checkpoint_mismatch'
  | 'checkpoint_missing'
  | 'signature_invalid';

export interface ChainBreak {
  stream: string;
  /** The revision as stored where the break shows; null for a whole stream. */
  revision: number | null;
  kind: BreakKind;
  detail: string;
}

/** One event as audit sees it: revisions are plain numbers (records, NDJSON). */
export interface AuditLink {
  stream: string;
  revision: number;
  id: string;
  type: string;
  data: JsonObject;
  metadata: JsonObject;
}

export interface Anchor {
  /** Revision of the event before the first one checked. */
  revision: number;
  hash: string;
}

/** The chain hash of `link` as if it were stored at `revision`. */
export function hashAt(prev: string, link: AuditLink, revision = link.revision): string {
  return chainHash(prev, { ...link, revision: BigInt(revision) });
}

const recordedHash = (link: AuditLink): string => (typeof link.metadata.hash === 'string' ? link.metadata.hash : '');

export function dataHash(data: JsonObject): string {
  return createHash('sha256').update(jcs(data), 'utf8').digest('hex');
}

/** Which part of an edited event changed: the `data_hash` in its metadata tells data from metadata. */
function contentKind(link: AuditLink): { kind: BreakKind; detail: string } {
  const digest = link.metadata.data_hash;
  if (typeof digest !== 'string') {
    return { kind: 'content_changed', detail: `event ${link.id} (${link.type}) does not match its hash: its data or metadata was changed` };
  }
  return dataHash(link.data) !== digest
    ? { kind: 'data_changed', detail: `event ${link.id} (${link.type}): its data no longer matches its recorded data_hash` }
    : { kind: 'metadata_changed', detail: `event ${link.id} (${link.type}): its data is intact, its metadata was changed` };
}

/**
 * Verifies one stream in revision order and names each break. Feed it the stream's events oldest first
 * (`push`), then `finish`. It looks one event ahead, so it holds at most two events at a time.
 */
export class StreamChecker {
  readonly breaks: ChainBreak[] = [];
  /** Events checked. */
  events = 0;
  /** The last event consumed, as stored. */
  head: Anchor | null;
  private prev: string;
  /** The stored revision the next event must have. */
  private next: number;
  /** Stored revision minus the revision the event was written at, after an insertion (+1) or a deletion (-1). */
  private offset = 0;
  private readonly buffer: AuditLink[] = [];

  constructor(
    readonly stream: string,
    readonly anchor?: Anchor,
  ) {
    this.prev = anchor?.hash ?? GENESIS_HASH;
    this.next = anchor ? anchor.revision + 1 : 0;
    this.head = anchor ?? null;
  }

  get ok(): boolean {
    return this.breaks.length === 0;
  }

  push(link: AuditLink): void {
    this.buffer.push(link);
    if (this.buffer.length >= 2) this.step();
  }

  finish(): ChainBreak[] {
    while (this.buffer.length > 0) this.step();
    return this.breaks;
  }

  private consume(count: number, prev: string): void {
    const links = this.buffer.splice(0, count);
    const last = links[links.length - 1];
    this.events += links.length;
    this.prev = prev;
    this.next = last.revision + 1;
    this.head = { revision: last.revision, hash: recordedHash(last) };
  }

  private report(link: AuditLink, kind: BreakKind, detail: string, revision = link.revision): void {
    this.breaks.push({ stream: this.stream, revision, kind, detail });
  }

  private step(): void {
    const [e0, e1] = this.buffer;
    const r = this.next;
    if (e0.revision > r) {
      const missing = e0.revision - 1 === r ? `revision ${r} is` : `revisions ${r} to ${e0.revision - 1} are`;
      this.report(e0, 'deleted', `${missing} missing: the stream goes on at revision ${e0.revision}`, r);
      this.consume(1, recordedHash(e0));
      return;
    }
    if (e0.revision < r) {
      this.report(e0, 'reordered', `event ${e0.id} claims revision ${e0.revision}, after revision ${r - 1}`);
      this.buffer.shift();
      return;
    }
    const original = r - this.offset;
    const computed = hashAt(this.prev, e0, original);
    if (computed === recordedHash(e0)) {
      this.consume(1, computed);
      return;
    }
    if (e1 && e1.revision === r + 1) {
      // Two events in each other's place: each verifies at the other's revision.
      if (hashAt(this.prev, e1, original) === recordedHash(e1) && hashAt(recordedHash(e1), e0, original + 1) === recordedHash(e0)) {
        this.report(e0, 'swapped', `events ${e1.id} and ${e0.id} (revisions ${r} and ${r + 1}) are in each other's place`);
        this.consume(2, recordedHash(e0));
        return;
      }
      // A foreign event here, and the event that was here pushed one revision on.
      if (hashAt(this.prev, e1, original) === recordedHash(e1)) {
        this.report(e0, 'inserted', `event ${e0.id} (${e0.type}) at revision ${r} was not written by Towline; the events after it moved one revision on`);
        this.offset += 1;
        this.consume(2, recordedHash(e1));
        return;
      }
      // The event here is the one that followed a removed event, renumbered into its place.
      if (hashAt(recordedHash(e0), e1, original + 2) === recordedHash(e1)) {
        this.report(e0, 'deleted', `the event at revision ${r} was removed and the events after it renumbered down (event ${e0.id} now stands there)`);
        this.offset -= 1;
        this.consume(2, recordedHash(e1));
        return;
      }
    }
    const follows = (prev: string) => e1 !== undefined && e1.revision === r + 1 && hashAt(prev, e1, original + 1) === recordedHash(e1);
    if (e1 && !follows(recordedHash(e0)) && follows(computed)) {
      this.report(e0, 'metadata_changed', `event ${e0.id} (${e0.type}): its recorded hash was replaced`);
      this.consume(1, computed);
      return;
    }
    const { kind, detail } = contentKind(e0);
    this.report(e0, kind, detail);
    this.consume(1, recordedHash(e0));
  }
}

/**
 * The fast path over a whole log: one step per event, no look-ahead, a few bytes per stream. A stream that
 * fails here is read again through StreamChecker to name its breaks.
 */
export interface ChainState {
  next: number;
  prev: string;
}

export function fastStep(state: ChainState | undefined, link: AuditLink): ChainState | null {
  const next = state?.next ?? 0;
  if (link.revision !== next) return null;
  const hash = hashAt(state?.prev ?? GENESIS_HASH, link);
  return hash === recordedHash(link) ? { next: next + 1, prev: hash } : null;
}
