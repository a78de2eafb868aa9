import type { IEvent } from '@nestjs/cqrs';
import { DomainEvent } from '../../cqrs/domain-event';
import type { AlertAction, NormalizedAlert, Severity } from '../../contracts/alert';

/** What one alert did to its incident; `unchanged` when it was for an incident in a state it cannot change. */
export type AlertResult = 'opened' | 'attached' | 'reopened' | 'resolved' | 'acknowledged' | 'unchanged';

/**
 * Stream `incident-<id>`. The id is derived from the dedup key (organisation, source, vendor_alert_id), so
 * every alert with that key — repeats, resolve messages, regressions — lands on the one stream, whose
 * optimistic concurrency then decides open-or-attach without a separate lock.
 */

export const INCIDENT_STATUSES = ['open', 'needs_manual_triage', 'acknowledged', 'resolved', 'verified', 'closed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export interface IncidentTriage {
  /** Copied from the source when the incident opened: the triage saga reacts to it. */
  autoTriage: boolean;
  playbook: string | null;
}

@DomainEvent('IncidentOpened')
export class IncidentOpened implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly organisationId: string,
    /** INC-<year>-<sequence>, claimed on the organisation's counter stream before this event is written. */
    readonly number: string,
    readonly source: string,
    readonly vendorAlertId: string,
    readonly title: string,
    readonly severity: Severity,
    readonly category: string | null,
    readonly projectId: string | null,
    readonly triage: IncidentTriage,
    readonly openedAt: string,
  ) {}
}

/**
 * One received alert item, attached as evidence (the first one too, right after IncidentOpened). `alertId`
 * is `<receipt id>:<item index>`, which makes re-processing a received webhook a no-op. `count` is the
 * incident's alert count after this one, absolute so that a projection can apply it twice harmlessly.
 */
@DomainEvent('AlertAttached')
export class AlertAttached implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly alertId: string,
    readonly receiptId: string,
    readonly index: number,
    readonly action: AlertAction,
    readonly receivedAt: string,
    readonly alert: NormalizedAlert,
    readonly count: number,
  ) {}
}

export const RESOLUTIONS = ['remediated', 'mitigated', 'risk_accepted', 'other'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/**
 * `reason` names what resolved it: a vendor's resolve message (`alertId` is that alert), or a person through
 * the API (`manual`, with a resolution and a note). Events recorded before manual resolutions existed carry
 * neither `resolution` nor `note`: read them as null.
 */
@DomainEvent('IncidentResolved')
export class IncidentResolved implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly resolvedAt: string,
    readonly reason: 'resolve_message' | 'manual',
    readonly alertId: string | null,
    readonly resolution: Resolution | null = null,
    readonly note: string | null = null,
  ) {}
}

/**
 * Back to open. `regression`: a repeat of a resolved incident's alert, the problem came back (`alertId` is
 * that alert; `regressionCount` is absolute, after this one). Otherwise a person reopened it (`note`).
 */
@DomainEvent('IncidentReopened')
export class IncidentReopened implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly reopenedAt: string,
    readonly regression: boolean,
    readonly regressionCount: number,
    readonly alertId: string | null,
    readonly note: string | null = null,
  ) {}
}

/** Someone (an analyst, or the vendor's acknowledge message: `alertId`) has taken the incident on. */
@DomainEvent('IncidentAcknowledged')
export class IncidentAcknowledged implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly acknowledgedAt: string,
    readonly alertId: string | null,
  ) {}
}

/** `previousAssignee` makes a reassignment readable on its own. */
@DomainEvent('IncidentAssigned')
export class IncidentAssigned implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly assignee: string,
    readonly previousAssignee: string | null,
    readonly assignedAt: string,
  ) {}
}

/**
 * A severity set by triage (attached alerts raise the severity by themselves, see AlertAttached). Triage may
 * lower it too: its verdict is better evidence than the vendor's first guess.
 */
@DomainEvent('IncidentSeverityChanged')
export class IncidentSeverityChanged implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly from: Severity,
    readonly to: Severity,
    readonly reason: 'triage',
    readonly changedAt: string,
  ) {}
}

/** The re-test after a resolution showed the fix works. */
@DomainEvent('IncidentResolutionVerified')
export class IncidentResolutionVerified implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly verifiedAt: string,
    readonly note: string | null,
  ) {}
}

/** The re-test after a resolution showed the fix did not work: back to acknowledged, someone is on it. */
@DomainEvent('IncidentResolutionFailed')
export class IncidentResolutionFailed implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly failedAt: string,
    readonly note: string | null,
  ) {}
}

export const CLOSE_REASONS = ['false_positive', 'benign', 'duplicate'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** Closed without a fix, because there was nothing to fix. `duplicateOf` names the incident it was folded into. */
@DomainEvent('IncidentClosed')
export class IncidentClosed implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly closedAt: string,
    readonly reason: CloseReason,
    readonly note: string | null,
    readonly duplicateOf: string | null,
  ) {}
}

/**
 * Auto-triage gave up on a step after its retries (`attempts`, the last `error`): a person must triage the
 * incident. It ends the triage run `runId`; the status becomes needs_manual_triage only from open (someone
 * who already acknowledged the incident is triaging it anyway).
 */
@DomainEvent('IncidentNeedsManualTriage')
export class IncidentNeedsManualTriage implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly runId: string,
    readonly step: string,
    readonly attempts: number,
    readonly error: string,
    readonly at: string,
  ) {}
}

export const SLA_KINDS = ['acknowledge', 'resolve'] as const;
export type SlaKind = (typeof SLA_KINDS)[number];

/** The incident missed its time-to-acknowledge or time-to-resolve target; appended at most once per kind. */
@DomainEvent('SlaBreached')
export class SlaBreached implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly kind: SlaKind,
    readonly severity: Severity,
    readonly dueAt: string,
    readonly breachedAt: string,
  ) {}
}

/**
 * Another incident was folded into this one by triage: a `campaign` (same sender or subject to other
 * recipients) or a `duplicate` (same alert fingerprint). The member is closed as a duplicate of this one;
 * `count` is the group's size after this one (this incident included), absolute so a projection can apply
 * it twice. The member's own verdict and score come along, so this incident is judged by its worst member.
 */
@DomainEvent('IncidentLinked')
export class IncidentLinked implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly memberIncidentId: string,
    readonly memberNumber: string,
    readonly kind: 'campaign' | 'duplicate',
    readonly key: string,
    readonly memberVerdict: string,
    readonly memberScore: number,
    readonly count: number,
    readonly linkedAt: string,
  ) {}
}

/**
 * Stream `incidentNumbers-<organisationId>.<year>`: the organisation's incident numbers for one year, in
 * order. Appending with the expected revision makes each number unique; claiming before the incident is
 * opened, keyed by incident id, makes a retried opening reuse its number, so numbers have no gaps.
 */
@DomainEvent('IncidentNumberClaimed')
export class IncidentNumberClaimed implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly year: number,
    readonly sequence: number,
    readonly incidentId: string,
  ) {}
}
