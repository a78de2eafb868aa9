import type { KeyObject } from 'node:crypto';
import type { JsonObject } from '../../event-store/event-store.port';
import { keyIdOf, publicKeyFrom, rawPublicKey, verifySignature } from './signatures';
import type { AuditLink, ChainBreak } from './chain-check';

export const CHECKPOINT_TYPE = 'LedgerCheckpointRecorded';

export interface Expectation {
  revision: number;
  hash: string;
  sequence: number;
  ledger: string;
}

export interface CheckpointSummary {
  ledger: string;
  sequence: number;
  /** Log position covered up to. */
  to: string;
  created_at: string;
  key_id: string;
  /** Whether the signature was checked against a key given to the verifier (pinned), or the checkpoint's own. */
  key: 'pinned' | 'embedded' | 'server';
}

/** The signed body: the checkpoint's data without its signature. */
export function signedBody(data: JsonObject): JsonObject {
  const { signature: _signature, ...body } = data;
  return body;
}

/**
 * Checks the ledger streams' checkpoints (signature, gap-free sequence) and gathers what they say each stream
 * held: every (stream, revision, hash) a checkpoint recorded becomes an expectation the log must meet. With
 * `trusted`, signatures must verify under that key; without it, under the key each checkpoint embeds (which
 * proves only that the file agrees with itself — pin the key to catch a re-signed ledger).
 */
export class LedgerChecker {
  readonly breaks: ChainBreak[] = [];
  readonly expectations = new Map<string, Expectation[]>();
  readonly latest = new Map<string, CheckpointSummary>();
  checkpoints = 0;
  private readonly sequences = new Map<string, number>();
  private readonly embedded = new Map<string, KeyObject>();

  constructor(private readonly trusted?: { key: KeyObject; origin: 'pinned' | 'server' }) {}

  add(link: AuditLink): void {
    if (link.type !== CHECKPOINT_TYPE) return;
    const data = link.data;
    const report = (kind: ChainBreak['kind'], detail: string) => this.breaks.push({ stream: link.stream, revision: link.revision, kind, detail });
    const sequence = typeof data.sequence === 'number' ? data.sequence : NaN;
    const expected = (this.sequences.get(link.stream) ?? 0) + 1;
    if (sequence !== expected) report('checkpoint_missing', `checkpoint ${sequence} follows checkpoint ${expected - 1}: a checkpoint is missing`);
    this.sequences.set(link.stream, Number.isFinite(sequence) ? sequence : expected);
    this.checkpoints += 1;

    const key = this.trusted?.key ?? this.embeddedKey(String(data.publicKey ?? ''));
    const signature = typeof data.signature === 'string' ? data.signature : '';
    if (!key || !verifySignature(signedBody(data), signature, key)) {
      report('signature_invalid', `checkpoint ${sequence} of ${link.stream} is not signed by ${this.trusted ? `the ${this.trusted.origin} key` : 'the key it names'}`);
      return;
    }
    const streams = Array.isArray(data.streams) ? (data.streams as JsonObject[]) : [];
    for (const head of streams) {
      const stream = String(head.stream);
      const list = this.expectations.get(stream) ?? [];
      list.push({ revision: Number(head.revision), hash: String(head.hash), sequence, ledger: link.stream });
      this.expectations.set(stream, list);
    }
    this.latest.set(link.stream, {
      ledger: link.stream,
      sequence,
      to: String(data.to),
      created_at: String(data.createdAt),
      key_id: this.trusted ? keyIdOf(rawPublicKey(this.trusted.key)) : String(data.keyId),
      key: this.trusted?.origin ?? 'embedded',
    });
  }

  private embeddedKey(text: string): KeyObject | undefined {
    let key = this.embedded.get(text);
    if (!key) {
      try {
        key = publicKeyFrom(text);
      } catch {
        return undefined;
      }
      this.embedded.set(text, key);
    }
    return key;
  }
}

/** What a checkpoint expected of a stream, against what the stream holds at that revision (null: nothing there). */
export function expectationBreak(stream: string, expectation: Expectation, found: { hash: string } | null, streamExists: boolean): ChainBreak | null {
  const at = `checkpoint ${expectation.sequence} of ${expectation.ledger}`;
  if (!streamExists) {
    return { stream, revision: null, kind: 'stream_missing', detail: `the stream is gone; ${at} recorded it at revision ${expectation.revision}` };
  }
  if (!found) {
    return { stream, revision: expectation.revision, kind: 'truncated', detail: `${at} recorded revision ${expectation.revision}, the stream ends before it: its tail was cut off` };
  }
  if (found.hash !== expectation.hash) {
    return {
      stream,
      revision: expectation.revision,
      kind: 'checkpoint_mismatch',
      detail: `${at} signed hash ${expectation.hash} at revision ${expectation.revision}, the stream has ${found.hash}: its history was rewritten`,
    };
  }
  return null;
}
