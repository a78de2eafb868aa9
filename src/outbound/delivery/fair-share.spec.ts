import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fairShare, type Candidate, type Load, type ShareLimits } from './fair-share';

const LIMITS: ShareLimits = { concurrency: 32, organisationConcurrency: 24, endpointConcurrency: 4 };
const idle = (): Load => ({ total: 0, byOrganisation: new Map(), byWebhook: new Map() });
const hook = (organisationId: string, webhookId: string, ready = 100, allowance = 4): Candidate => ({ webhookId, organisationId, ready, allowance });

/** Applies picks to a load, as the worker counts attempts it starts. */
function take(load: Load, picks: string[], orgOf: (webhookId: string) => string): Load {
  const byOrganisation = new Map(load.byOrganisation);
  const byWebhook = new Map(load.byWebhook);
  for (const id of picks) {
    byWebhook.set(id, (byWebhook.get(id) ?? 0) + 1);
    byOrganisation.set(orgOf(id), (byOrganisation.get(orgOf(id)) ?? 0) + 1);
  }
  return { total: load.total + picks.length, byOrganisation, byWebhook };
}

describe('the fair-share rule', () => {
  it('keeps a healthy endpoint its lane while another organisation’s 9 endpoints hang, however they came first', () => {
    const hanging = Array.from({ length: 9 }, (_, i) => hook('a', `a${i}`));
    const orgOf = (id: string) => (id.startsWith('a') ? 'a' : 'b');
    // The hanging organisation alone: it takes at most its share (24), not 9 × 4 = 36 or the whole 32.
    let load = take(idle(), fairShare(hanging, idle(), LIMITS), orgOf);
    expect(load.total).toBe(24);
    expect(Math.max(...load.byWebhook.values())).toBeLessThanOrEqual(4);
    // Its requests never answer. The healthy webhook of another organisation, over many rounds of work:
    for (let round = 0; round < 50; round++) {
      const picks = fairShare([...hanging, hook('b', 'b0')], load, LIMITS, round);
      const healthy = picks.filter((id) => id === 'b0');
      expect(healthy).toHaveLength(4);
      // The healthy endpoint's attempts answer at once and give their slots back; the hanging ones do not.
      load = take(load, picks.filter((id) => id !== 'b0'), orgOf);
    }
    expect(load.byOrganisation.get('a')).toBe(24);
  });

  it('gives each free slot to the organisation holding fewest, then to its endpoint holding fewest', () => {
    const candidates = [hook('a', 'a0'), hook('a', 'a1'), hook('b', 'b0'), hook('c', 'c0')];
    const load: Load = { total: 6, byOrganisation: new Map([['a', 5], ['b', 1]]), byWebhook: new Map([['a0', 4], ['a1', 1], ['b0', 1]]) };
    const picks = fairShare(candidates, load, { concurrency: 10, organisationConcurrency: 8, endpointConcurrency: 4 });
    // c (0) first, then b and c alternate while they hold fewer than a; a gets nothing: it holds the most.
    expect(picks).toEqual(['c0', 'b0', 'c0', 'b0']);
  });

  it('shares evenly between organisations that all want more than there is', () => {
    const candidates = ['a', 'b', 'c', 'd'].flatMap((org) => [0, 1, 2].map((i) => hook(org, `${org}${i}`)));
    const load = take(idle(), fairShare(candidates, idle(), LIMITS), (id) => id[0]);
    expect([...load.byOrganisation.values()]).toEqual([8, 8, 8, 8]);
  });

  it('never gives an endpoint more than its allowance, its lane or its ready jobs, nor anyone more than the limits', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ org: fc.integer({ min: 0, max: 4 }), ready: fc.integer({ min: 0, max: 10 }), allowance: fc.integer({ min: 0, max: 6 }), busy: fc.integer({ min: 0, max: 5 }) }), { maxLength: 20 }),
        fc.integer({ min: 0, max: 100 }),
        (hooks, turn) => {
          const candidates = hooks.map((h, i) => hook(`o${h.org}`, `w${i}`, h.ready, h.allowance));
          const byWebhook = new Map(hooks.map((h, i) => [`w${i}`, Math.min(h.busy, 4)] as const));
          const byOrganisation = new Map<string, number>();
          hooks.forEach((h, i) => byOrganisation.set(`o${h.org}`, (byOrganisation.get(`o${h.org}`) ?? 0) + byWebhook.get(`w${i}`)!));
          const total = [...byWebhook.values()].reduce((a, b) => a + b, 0);
          const limits = { concurrency: 16, organisationConcurrency: 12, endpointConcurrency: 4 };
          const picks = fairShare(candidates, { total, byOrganisation, byWebhook }, limits, turn);
          const after = take({ total, byOrganisation, byWebhook }, picks, (id) => candidates.find((c) => c.webhookId === id)!.organisationId);
          if (after.total > Math.max(limits.concurrency, total)) return false;
          for (const c of candidates) {
            const given = picks.filter((id) => id === c.webhookId).length;
            if (given > c.ready || given > c.allowance) return false;
            if (given > 0 && after.byWebhook.get(c.webhookId)! > limits.endpointConcurrency) return false;
            if (given > 0 && after.byOrganisation.get(c.organisationId)! > limits.organisationConcurrency) return false;
          }
          return true;
        },
      ),
    );
  });
});
