import { SEVERITIES, type Severity } from '../../contracts/alert';
import type { Verdict } from '../events/triage.events';
import type { PlaybookSettings } from '../playbook-settings';

/**
 * The scoring every playbook shares. A score is a sum of contributions, each with its reason, clamped to
 * 0–100, starting from the vendor's own severity. The verdict:
 * - malicious at or above `malicious_score` (default 70);
 * - benign only below `suspicious_score` (default 30) *and* with positive evidence (an allow-list match):
 *   triage never closes an incident merely for lack of evidence;
 * - suspicious otherwise.
 */

export interface Contribution {
  points: number;
  reason: string;
}

export const SEVERITY_POINTS: Readonly<Record<Severity, number>> = { info: 0, low: 10, medium: 20, high: 30, critical: 40 };

export const vendorSeverity = (severity: Severity): Contribution => ({
  points: SEVERITY_POINTS[severity],
  reason: `vendor severity ${severity}`,
});

export interface Tally {
  score: number;
  /** Each contribution as `<reason> (+n)`, in the order they were counted. */
  reasons: string[];
}

export function tally(contributions: readonly (Contribution | null | false | '' | undefined)[]): Tally {
  const counted = contributions.filter((c): c is Contribution => !!c);
  const sum = counted.reduce((total, c) => total + c.points, 0);
  return {
    score: Math.max(0, Math.min(100, sum)),
    reasons: counted.map((c) => `${c.reason} (${c.points >= 0 ? '+' : ''}${c.points})`),
  };
}

export function verdictOf(score: number, benignEvidence: boolean, thresholds: PlaybookSettings['thresholds']): Verdict {
  if (score >= thresholds.maliciousScore) return 'malicious';
  if (score < thresholds.suspiciousScore && benignEvidence) return 'benign';
  return 'suspicious';
}

const rank = (severity: Severity) => SEVERITIES.indexOf(severity);
const higher = (a: Severity, b: Severity) => (rank(a) >= rank(b) ? a : b);
const lower = (a: Severity, b: Severity) => (rank(a) <= rank(b) ? a : b);

/**
 * The severity triage sets: critical when escalated; malicious → high (critical from a score of 90);
 * suspicious → at least medium; never below what the vendor said unless benign, which is low at most.
 */
export function severityFor(verdict: Verdict, score: number, current: Severity, escalated: boolean): Severity {
  if (escalated) return 'critical';
  if (verdict === 'malicious') return higher(score >= 90 ? 'critical' : 'high', current);
  if (verdict === 'suspicious') return higher('medium', current);
  return lower('low', current);
}
