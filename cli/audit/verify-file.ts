import type { KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { GENESIS_HASH } from '../../src/event-store/hash-chain';
import { StreamChecker, fastStep, type AuditLink, type ChainBreak, type ChainState } from '../../src/audit/verification/chain-check';
import { CHECKPOINT_TYPE, LedgerChecker, expectationBreak, type CheckpointSummary, type Expectation } from '../../src/audit/verification/ledger-check';

/**
 * Offline verification of an NDJSON export (`tw-cli audit export`): no server, no database. Three passes over
 * the file, each line by line: the ledger checkpoints (signatures, sequence), then every stream's chain and
 * every checkpointed head, then the broken streams alone, in revision order, to name their breaks. A stream
 * whose first record is past revision 0 (a `--since` export, or one stream from a revision) verifies from the
 * `prev` that record carries, and the result says so.
 */

export interface FileRecord extends AuditLink {
  position: string;
  created: string;
  prev: string | null;
}

export interface FileVerification {
  records: number;
  streams_checked: number;
  events_checked: number;
  ok: boolean;
  /** Some stream starts past revision 0: verified from the anchors below; removed streams cannot be seen. */
  partial: boolean;
  anchored: { stream: string; from_revision: number; prev: string | null }[];
  /** How checkpoint signatures were checked: against a pinned key, or each against the key it embeds. */
  key: 'pinned' | 'embedded';
  checkpoint: CheckpointSummary | null;
  checkpoints: CheckpointSummary[];
  breaks: ChainBreak[];
}

export class ExportFormatError extends Error {
  override readonly name = 'ExportFormatError';
}

async function* records(path: string): AsyncGenerator<FileRecord> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n += 1;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new ExportFormatError(`line ${n}: not JSON`);
    }
    yield asRecord(value, n);
  }
}

function asRecord(value: unknown, line: number): FileRecord {
  const r = value as Partial<FileRecord> | null;
  const object = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (
    !r ||
    typeof r.stream !== 'string' ||
    !Number.isSafeInteger(r.revision) ||
    typeof r.id !== 'string' ||
    typeof r.type !== 'string' ||
    !object(r.data) ||
    !object(r.metadata) ||
    !(typeof r.prev === 'string' || r.prev === null)
  ) {
    throw new ExportFormatError(`line ${line}: not an audit record (stream, revision, id, type, data, metadata, prev)`);
  }
  return r as FileRecord;
}

export async function verifyExportFile(path: string, options: { publicKey?: KeyObject; onProgress?: (records: number) => void } = {}): Promise<FileVerification> {
  const ledger = new LedgerChecker(options.publicKey ? { key: options.publicKey, origin: 'pinned' } : undefined);
  for await (const record of records(path)) if (record.type === CHECKPOINT_TYPE) ledger.add(record);

  const expectations = new Map<string, Expectation>();
  for (const [stream, list] of ledger.expectations) expectations.set(stream, list.reduce((a, b) => (b.revision > a.revision ? b : a)));

  const states = new Map<string, ChainState>();
  const heads = new Map<string, number>();
  const anchors = new Map<string, { from_revision: number; prev: string | null }>();
  const broken = new Set<string>();
  const checkpointBreaks: ChainBreak[] = [];
  let count = 0;
  for await (const record of records(path)) {
    count += 1;
    if (count % 10_000 === 0) options.onProgress?.(count);
    heads.set(record.stream, Math.max(heads.get(record.stream) ?? -1, record.revision));
    const expected = expectations.get(record.stream);
    if (expected && expected.revision === record.revision) {
      const mismatch = expectationBreak(record.stream, expected, { hash: String(record.metadata.hash) }, true);
      if (mismatch) checkpointBreaks.push(mismatch);
    }
    if (broken.has(record.stream)) continue;
    let state = states.get(record.stream);
    if (!state && record.revision > 0) {
      anchors.set(record.stream, { from_revision: record.revision, prev: record.prev });
      if (record.prev === null) {
        broken.add(record.stream);
        continue;
      }
      state = { next: record.revision, prev: record.prev };
    }
    if (!state && record.prev !== GENESIS_HASH) {
      broken.add(record.stream);
      continue;
    }
    const next = fastStep(state, record);
    if (next) states.set(record.stream, next);
    else broken.add(record.stream);
  }
  options.onProgress?.(count);

  const partial = anchors.size > 0;
  if (!partial) {
    for (const [stream, expectation] of expectations) {
      const head = heads.get(stream);
      if (head !== undefined && head >= expectation.revision) continue;
      const missing = expectationBreak(stream, expectation, null, head !== undefined);
      if (missing) checkpointBreaks.push(missing);
    }
  }

  const named: ChainBreak[] = [];
  if (broken.size > 0) {
    const byStream = new Map<string, FileRecord[]>();
    for await (const record of records(path)) {
      if (broken.has(record.stream)) byStream.set(record.stream, [...(byStream.get(record.stream) ?? []), record]);
    }
    for (const [stream, list] of byStream) {
      list.sort((a, b) => a.revision - b.revision);
      const anchor = anchors.get(stream);
      const checker = new StreamChecker(
        stream,
        anchor && anchor.prev !== null ? { revision: anchor.from_revision - 1, hash: anchor.prev } : undefined,
      );
      for (const record of list) checker.push(record);
      const breaks = checker.finish();
      named.push(...(breaks.length > 0 ? breaks : [{ stream, revision: list[0].revision, kind: 'reordered' as const, detail: 'records of the stream are out of order in the file' }]));
    }
  }
  const explained = new Set(named.map((b) => b.stream));
  const breaks = [...named, ...checkpointBreaks.filter((b) => !explained.has(b.stream)), ...ledger.breaks];
  const checkpoints = [...ledger.latest.values()];
  return {
    records: count,
    streams_checked: heads.size,
    events_checked: count,
    ok: breaks.length === 0,
    partial,
    anchored: [...anchors].map(([stream, anchor]) => ({ stream, ...anchor })),
    key: options.publicKey ? 'pinned' : 'embedded',
    checkpoint: checkpoints.reduce<CheckpointSummary | null>((a, b) => (!a || b.created_at > a.created_at ? b : a), null),
    checkpoints,
    breaks,
  };
}

