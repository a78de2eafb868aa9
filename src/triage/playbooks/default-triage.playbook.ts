import type { JsonObject } from '../../event-store/event-store.port';
import { checkReputation, type Reputation } from '../analysis/reputation';
import { severityFor, tally, vendorSeverity, verdictOf } from '../analysis/scoring';
import { findGroup, groupEvidence, groupOf } from './grouping';
import type { Conclusion, Playbook, StepResults, TriageInput } from './playbook';

const union = (lists: string[][]) => [...new Set(lists.flat())];

/** Same source, same title, same host: the same alert under another vendor id. */
export function fingerprint(input: TriageInput): string {
  const host = input.alerts.map((a) => a.alert.host).find((h) => h) ?? '';
  return `fingerprint:${input.incident.source}|${input.incident.title.trim().toLowerCase()}|${host.trim().toLowerCase()}`;
}

/**
 * Every other auto-triage source: dedup (an alert with the same fingerprint — source, title, host — on an
 * active incident within `duplicate_window_minutes` is folded into it), enrichment from the block and allow
 * lists, and a severity.
 *
 * Scoring (0–100): the vendor's severity; a blocked indicator +60; every indicator allow-listed (and nothing
 * blocked) −40.
 */
export const defaultTriage: Playbook = {
  name: 'default_triage',
  description: 'Any source: dedup by fingerprint, enrichment from the reputation lists, severity',
  reevaluateOnAlert: false,
  steps: [
    {
      key: 'extract',
      run(input) {
        const alerts = input.alerts.map((a) => a.alert);
        const indicators = {
          emails: union(alerts.map((a) => a.indicators.emails)),
          urls: union(alerts.map((a) => a.indicators.urls)),
          domains: union(alerts.map((a) => a.indicators.domains)),
          ips: union(alerts.map((a) => a.indicators.ips)),
          hashes: union(alerts.map((a) => a.indicators.hashes)),
        };
        return { outcome: 'extracted', evidence: { indicators, correlation_keys: [fingerprint(input)] } };
      },
    },
    {
      key: 'dedup',
      async run(input, { results, sightings }) {
        const keys = (results.get('extract')?.evidence.correlation_keys ?? []) as string[];
        const finding = await findGroup(sightings, keys, input.settings.thresholds.duplicateWindowMinutes * 60_000, 'duplicate');
        return { outcome: finding.group ? 'duplicate' : 'unique', evidence: groupEvidence(finding) };
      },
    },
    {
      key: 'enrich',
      run(input, { results }) {
        const indicators = results.get('extract')!.evidence.indicators as unknown as Parameters<typeof checkReputation>[0];
        const reputation = checkReputation(indicators, input.settings.allow, input.settings.block);
        const outcome = reputation.blocked.length > 0 ? 'blocked' : reputation.allowed.length > 0 ? 'allowed' : 'unknown';
        return { outcome, evidence: reputation as unknown as JsonObject };
      },
    },
  ],
  conclude(input: TriageInput, results: StepResults): Conclusion {
    const reputation = results.get('enrich')!.evidence as unknown as Reputation;
    const benignEvidence = reputation.checked > 0 && reputation.allowed.length === reputation.checked && reputation.blocked.length === 0;
    const { score, reasons } = tally([
      vendorSeverity(input.incident.vendorSeverity),
      reputation.blocked.length > 0 && { points: 60, reason: `blocked: ${reputation.blocked.map((h) => `${h.kind} ${h.value}`).join(', ')}` },
      benignEvidence && { points: -40, reason: 'every indicator is allow-listed' },
    ]);
    const verdict = verdictOf(score, benignEvidence, input.settings.thresholds);
    return { verdict, score, reasons, severity: severityFor(verdict, score, input.incident.vendorSeverity, false), escalated: false, groupInto: groupOf(results.get('dedup')?.evidence) };
  },
};
