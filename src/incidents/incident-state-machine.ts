import { AppError } from '../http/app-error';
import type { IncidentStatus } from './events/incident.events';

/**
 * The incident lifecycle, as one table: for every action, the statuses it may start from and the status it
 * leads to. Commands, alerts and triage all ask this table, so the rules live in one place (and in
 * docs/incidents.md, which shows the same table).
 *
 *   open ──acknowledge──▶ acknowledged ──resolve──▶ resolved ──verify(passed)──▶ verified
 *     │                        ▲                       │  └──verify(failed)──▶ acknowledged
 *     ├──(triage gives up)──▶ needs_manual_triage      │
 *     └──close──▶ closed                               └──(trigger alert: regression) / reopen──▶ open
 *
 * `assign` changes no status. A trigger alert on a closed incident is attached as evidence only: a false
 * positive repeating is still a false positive (reopen it by hand if it is not).
 */
export const TRANSITIONS = {
  acknowledge: { from: ['open', 'needs_manual_triage'], to: 'acknowledged' },
  assign: { from: ['open', 'needs_manual_triage', 'acknowledged', 'resolved'], to: null },
  resolve: { from: ['open', 'needs_manual_triage', 'acknowledged'], to: 'resolved' },
  verify_passed: { from: ['resolved'], to: 'verified' },
  verify_failed: { from: ['resolved'], to: 'acknowledged' },
  close: { from: ['open', 'needs_manual_triage', 'acknowledged', 'resolved'], to: 'closed' },
  reopen: { from: ['resolved', 'verified', 'closed'], to: 'open' },
  regress: { from: ['resolved', 'verified'], to: 'open' },
  needs_manual_triage: { from: ['open'], to: 'needs_manual_triage' },
} as const satisfies Record<string, { from: readonly IncidentStatus[]; to: IncidentStatus | null }>;

export type IncidentAction = keyof typeof TRANSITIONS;

/** Statuses in which the incident still needs work: SLA clocks run, triage may act. */
export const ACTIVE_STATUSES: readonly IncidentStatus[] = ['open', 'needs_manual_triage', 'acknowledged'];

export function canTransition(status: IncidentStatus, action: IncidentAction): boolean {
  return (TRANSITIONS[action].from as readonly IncidentStatus[]).includes(status);
}

/** The status after `action` (unchanged for assign). */
export function nextStatus(status: IncidentStatus, action: IncidentAction): IncidentStatus {
  return TRANSITIONS[action].to ?? status;
}

export function invalidTransition(action: IncidentAction, status: IncidentStatus, incident: string): AppError {
  const verb = action.startsWith('verify') ? 'verify' : action.replace(/_/g, ' ');
  return new AppError(409, 'invalid_transition', `Cannot ${verb} incident ${incident}: it is ${status}`, {
    current_state: status,
    allowed_from: TRANSITIONS[action].from,
  });
}

/** Throws 409 invalid_transition, naming the current state, when `action` is not allowed from it. */
export function assertTransition(status: IncidentStatus, action: IncidentAction, incident: string): void {
  if (!canTransition(status, action)) throw invalidTransition(action, status, incident);
}
