import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../event-store/event-store.port';
import { GENESIS_HASH } from '../../event-store/hash-chain';
import { StreamChecker, dataHash, fastStep, hashAt, type AuditLink, type ChainState } from './chain-check';

/** A well-formed chain of `n` events, hashed by the published rule. */
function chain(n: number, stream = 'incident-1'): AuditLink[] {
  const links: AuditLink[] = [];
  let prev = GENESIS_HASH;
  for (let revision = 0; revision < n; revision++) {
    const data: JsonObject = { n: revision, note: `step ${revision}` };
    const link: AuditLink = { stream, revision, id: randomUUID(), type: 'Step', data, metadata: { actor: 'admin', data_hash: dataHash(data) } };
    link.metadata.hash = hashAt(prev, link);
    prev = link.metadata.hash as string;
    links.push(link);
  }
  return links;
}

function check(links: AuditLink[]) {
  const checker = new StreamChecker(links[0]?.stream ?? 'incident-1');
  for (const link of links) checker.push(link);
  return checker.finish().map(({ revision, kind }) => ({ revision, kind }));
}

/** Renumbers revisions the way one would to hide a change (keeping the stored hashes). */
const renumber = (links: AuditLink[]) => links.map((link, revision) => ({ ...link, revision }));

describe('naming the break in a stream', () => {
  it('passes an intact chain', () => {
    expect(check(chain(6))).toEqual([]);
  });

  it('tells data changed from metadata changed', () => {
    const data = chain(5);
    data[2] = { ...data[2], data: { ...data[2].data, note: 'edited' } };
    expect(check(data)).toEqual([{ revision: 2, kind: 'data_changed' }]);
    const metadata = chain(5);
    metadata[3] = { ...metadata[3], metadata: { ...metadata[3].metadata, actor: 'mallory' } };
    expect(check(metadata)).toEqual([{ revision: 3, kind: 'metadata_changed' }]);
    const hash = chain(5);
    hash[1] = { ...hash[1], metadata: { ...hash[1].metadata, hash: 'f'.repeat(64) } };
    expect(check(hash)).toEqual([{ revision: 1, kind: 'metadata_changed' }]);
  });

  it('names a deleted event, with or without the later ones renumbered', () => {
    const gap = chain(6);
    gap.splice(2, 1);
    expect(check(gap)).toEqual([{ revision: 2, kind: 'deleted' }]);
    expect(check(renumber(gap))).toEqual([{ revision: 2, kind: 'deleted' }]);
  });

  it('names two swapped events and an inserted one', () => {
    const swapped = chain(6);
    [swapped[2], swapped[3]] = [swapped[3], swapped[2]];
    expect(check(renumber(swapped))).toEqual([{ revision: 2, kind: 'swapped' }]);
    const inserted = chain(5);
    const forged: AuditLink = { ...inserted[1], id: randomUUID(), data: { forged: true } };
    inserted.splice(2, 0, forged);
    expect(check(renumber(inserted))).toEqual([{ revision: 2, kind: 'inserted' }]);
  });

  it('resumes after a break, so a second tamper further on is named too', () => {
    const links = chain(10);
    links[2] = { ...links[2], data: { edited: 1 } };
    links[7] = { ...links[7], metadata: { ...links[7].metadata, actor: 'x' } };
    expect(check(links)).toEqual([
      { revision: 2, kind: 'data_changed' },
      { revision: 7, kind: 'metadata_changed' },
    ]);
  });

  it('verifies from an anchor, and says content_changed for events without a data digest', () => {
    const links = chain(6);
    const checker = new StreamChecker('incident-1', { revision: 2, hash: links[2].metadata.hash as string });
    for (const link of links.slice(3)) checker.push(link);
    expect(checker.finish()).toEqual([]);
    expect(checker.events).toBe(3);
    const old = chain(3).map(({ metadata: { data_hash: _d, ...metadata }, ...link }) => ({ ...link, metadata }));
    let prev = GENESIS_HASH;
    for (const link of old) prev = link.metadata.hash = hashAt(prev, link);
    old[1] = { ...old[1], data: { changed: true } };
    expect(check(old)).toEqual([{ revision: 1, kind: 'content_changed' }]);
  });

  it('has a fast path that accepts only the next event of an intact chain', () => {
    const links = chain(3);
    let state: ChainState | undefined;
    for (const link of links) state = fastStep(state, link) ?? undefined;
    expect(state).toEqual({ next: 3, prev: links[2].metadata.hash });
    expect(fastStep(undefined, links[1])).toBeNull();
    expect(fastStep({ next: 1, prev: GENESIS_HASH }, links[1])).toBeNull();
  });
});
