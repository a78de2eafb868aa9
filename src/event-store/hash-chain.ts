import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { JsonObject } from './event-store.port';

/**
 * Tamper evidence. Every event's metadata carries
 *   hash = hex(SHA-256(prev \n stream \n revision \n id \n type \n JCS(data) \n JCS(metadata without hash)))
 * where prev is the previous event's hash in the same stream (64 zeros at revision 0) and JCS is RFC 8785.
 * Binding stream, revision and id makes edits, deletions, reorders and insertions detectable by anyone with
 * the events and this formula, without trusting the database or Towline.
 */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainLink {
  stream: string;
  revision: bigint;
  id: string;
  type: string;
  data: JsonObject;
  metadata: JsonObject;
}

export function jcs(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('Value cannot be canonicalised as JSON');
  return text;
}

/** Equal as JSON values: the order of an object's keys is no part of its value (an API call may send them in any order). */
export function sameJson(a: unknown, b: unknown): boolean {
  return a === undefined || b === undefined ? a === b : jcs(a) === jcs(b);
}

export function withoutHash(metadata: JsonObject): JsonObject {
  const { hash: _hash, ...rest } = metadata;
  return rest;
}

/** `metadata` may include a `hash`; it is left out of the computation. */
export function chainHash(prev: string, link: ChainLink): string {
  return chainHashOf(prev, link, jcs(link.data), jcs(withoutHash(link.metadata)));
}

/** The same, for a writer that has its data and metadata (without hash) in JCS already: see chainHash. */
export function chainHashOf(prev: string, link: Omit<ChainLink, 'data' | 'metadata'>, dataJcs: string, metadataJcs: string): string {
  const content = [prev, link.stream, link.revision.toString(), link.id, link.type, dataJcs, metadataJcs].join('\n');
  return createHash('sha256').update(content, 'utf8').digest('hex');
}

export type ChainVerdict =
  | { ok: true; events: number; head: { revision: bigint; hash: string } | null }
  | { ok: false; events: number; revision: bigint; reason: string };

/**
 * Verifies consecutive events of one stream, oldest first. `from` continues a chain whose earlier part was
 * verified already (its last revision and hash); without it the events must start at revision 0.
 */
export function verifyChain(links: Iterable<ChainLink>, from?: { revision: bigint; hash: string }): ChainVerdict {
  let prev = from?.hash ?? GENESIS_HASH;
  let expectedRevision = from ? from.revision + 1n : 0n;
  let stream: string | undefined;
  let count = 0;
  let head: { revision: bigint; hash: string } | null = from ?? null;
  for (const link of links) {
    const fail = (reason: string): ChainVerdict => ({ ok: false, events: count, revision: link.revision, reason });
    if (stream !== undefined && link.stream !== stream) return fail(`event belongs to stream '${link.stream}', not '${stream}'`);
    stream = link.stream;
    if (link.revision !== expectedRevision) return fail(`expected revision ${expectedRevision}, found ${link.revision}`);
    const recorded = link.metadata.hash;
    if (typeof recorded !== 'string') return fail('metadata has no hash');
    const computed = chainHash(prev, link);
    if (computed !== recorded) return fail(`hash mismatch: recorded ${recorded}, computed ${computed}`);
    prev = computed;
    head = { revision: link.revision, hash: computed };
    expectedRevision += 1n;
    count += 1;
  }
  return { ok: true, events: count, head };
}
