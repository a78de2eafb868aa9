import { GRADES, type Grade, type Severity } from '../catalog/event-catalog';

/**
 * A project's posture from its open incidents: each weighs by severity, and the sum grades it.
 *
 *   score = 10 × critical + 5 × high + 2 × medium + 1 × low (+ 0 × info)
 *   A: 0   B: 1–4   C: 5–9   D: 10–19   F: 20 and more
 *
 * So a project with nothing open is A, a single low or medium incident makes it B, one high C, one critical
 * D, and two criticals (or four highs) F. Letter grades, so there is no E.
 */
export const SEVERITY_WEIGHTS: Readonly<Record<Severity, number>> = { critical: 10, high: 5, medium: 2, low: 1, info: 0 };
const THRESHOLDS: readonly [number, Grade][] = [
  [20, 'F'],
  [10, 'D'],
  [5, 'C'],
  [1, 'B'],
  [0, 'A'],
];

export type OpenIncidents = Record<Severity, number>;

export function postureScore(open: OpenIncidents): number {
  return (Object.keys(SEVERITY_WEIGHTS) as Severity[]).reduce((sum, severity) => sum + SEVERITY_WEIGHTS[severity] * (open[severity] ?? 0), 0);
}

export function gradeOf(score: number): Grade {
  return THRESHOLDS.find(([minimum]) => score >= minimum)![1];
}

/** B → D is a degradation; D → B is not. */
export const isDegraded = (from: Grade, to: Grade) => GRADES.indexOf(to) > GRADES.indexOf(from);
