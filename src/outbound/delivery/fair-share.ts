/**
 * Who gets the next attempt slot: the scheduling rule of the delivery queue, kept pure so that a unit test can
 * prove it (fair-share.spec.ts).
 *
 * Slots are never taken back (an attempt in flight runs to its answer or its timeout), so fairness has to be
 * decided when a slot is given out, and a share must leave room for whoever comes next:
 * - an endpoint holds at most `endpointConcurrency` slots (and fewer when its circuit, its rate limit or a
 *   receiver's back-pressure says so: `allowance`);
 * - an organisation holds at most `organisationConcurrency` slots, less than the whole, so an organisation whose
 *   endpoints all hang leaves `concurrency − organisationConcurrency` slots to everyone else;
 * - each free slot goes to the organisation that holds the fewest, and within it to the endpoint that holds
 *   the fewest (max-min fairness, one slot at a time); ties go round in turn (`turn`), so no organisation or
 *   endpoint is always first.
 */
export interface Candidate {
  webhookId: string;
  organisationId: string;
  /** Jobs of this webhook that could start now (due and not held). */
  ready: number;
  /** Attempts its circuit, rate limit and back-pressure let start now, on top of those in flight. */
  allowance: number;
}

export interface Load {
  total: number;
  byOrganisation: ReadonlyMap<string, number>;
  byWebhook: ReadonlyMap<string, number>;
}

export interface ShareLimits {
  concurrency: number;
  organisationConcurrency: number;
  endpointConcurrency: number;
}

/** The webhooks to start one attempt each for, in order (a webhook appears once per slot it is given). */
export function fairShare(candidates: readonly Candidate[], load: Load, limits: ShareLimits, turn = 0): string[] {
  const byOrganisation = new Map(load.byOrganisation);
  const byWebhook = new Map(load.byWebhook);
  const given = new Map<string, number>();
  const picks: string[] = [];
  let total = load.total;
  const n = candidates.length;
  const rotated = n === 0 ? [] : candidates.map((_, i) => candidates[(i + (turn % n)) % n]);
  const open = (c: Candidate) => {
    const mine = given.get(c.webhookId) ?? 0;
    return (
      mine < c.ready &&
      mine < c.allowance &&
      (byWebhook.get(c.webhookId) ?? 0) < limits.endpointConcurrency &&
      (byOrganisation.get(c.organisationId) ?? 0) < limits.organisationConcurrency
    );
  };
  while (total < limits.concurrency) {
    let best: Candidate | undefined;
    for (const c of rotated) {
      if (!open(c)) continue;
      if (!best) {
        best = c;
        continue;
      }
      const org = (byOrganisation.get(c.organisationId) ?? 0) - (byOrganisation.get(best.organisationId) ?? 0);
      // Strictly fewer wins, so among equals the first in turn keeps it.
      if (org < 0 || (org === 0 && c.organisationId === best.organisationId && (byWebhook.get(c.webhookId) ?? 0) < (byWebhook.get(best.webhookId) ?? 0))) {
        best = c;
      }
    }
    if (!best) break;
    picks.push(best.webhookId);
    given.set(best.webhookId, (given.get(best.webhookId) ?? 0) + 1);
    byWebhook.set(best.webhookId, (byWebhook.get(best.webhookId) ?? 0) + 1);
    byOrganisation.set(best.organisationId, (byOrganisation.get(best.organisationId) ?? 0) + 1);
    total += 1;
  }
  return picks;
}
