import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, chainHash, jcs, verifyChain, type ChainLink } from './hash-chain';

interface VectorEvent {
  revision: number;
  id: string;
  type: string;
  data: ChainLink['data'];
  metadata: ChainLink['metadata'];
  hashed_content: string;
  hash: string;
}
const vectors = JSON.parse(readFileSync(join(__dirname, '../../../shared/vectors/vectors.json'), 'utf8')) as {
  chain: { stream: string; events: VectorEvent[] };
};
const links: ChainLink[] = vectors.chain.events.map((e) => ({
  stream: vectors.chain.stream,
  revision: BigInt(e.revision),
  id: e.id,
  type: e.type,
  data: e.data,
  metadata: { ...e.metadata, hash: e.hash },
}));

describe('hash chain', () => {
  it('reproduces the independently computed vector hashes', () => {
    let prev = GENESIS_HASH;
    for (const [i, link] of links.entries()) {
      const expected = vectors.chain.events[i];
      expect(expected.hashed_content.split('\n')[5]).toBe(jcs(link.data));
      expect(chainHash(prev, link)).toBe(expected.hash);
      prev = expected.hash;
    }
  });

  it('verifies an intact chain and reports its head', () => {
    const verdict = verifyChain(links);
    expect(verdict).toEqual({ ok: true, events: 2, head: { revision: 1n, hash: vectors.chain.events[1].hash } });
  });

  it('detects an edited payload, a removed event, a reorder and a foreign stream', () => {
    const edited = links.map((l, i) => (i === 0 ? { ...l, data: { ...l.data, severity: 'low' } } : l));
    expect(verifyChain(edited).ok).toBe(false);
    expect(verifyChain([links[1]]).ok).toBe(false);
    expect(verifyChain([links[1], links[0]]).ok).toBe(false);
    expect(verifyChain(links.map((l) => ({ ...l, stream: 'alert-other' }))).ok).toBe(false);
  });

  it('continues a chain from a verified head', () => {
    expect(verifyChain([links[1]], { revision: 0n, hash: links[0].metadata.hash as string }).ok).toBe(true);
  });
});
