import type { IEvent } from '@nestjs/cqrs';
import { DomainEvent } from '../../cqrs/domain-event';
import type { AlertAction, NormalizedAlert, Severity } from '../../inbound/normalizers';

/**
 * Stream `incident-<id>`. The id is derived from the dedup key (organisation, source, vendor_alert_id), so
 * every alert with that key — repeats, resolve messages, regressions — lands on the one stream, whose
 * optimistic concurrency then decides open-or-attach without a separate lock.
 */

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

/** `reason` names what resolved it: for now only a vendor's resolve message (`alertId` is that alert). */
@DomainEvent('IncidentResolved')
export class IncidentResolved implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly resolvedAt: string,
    readonly reason: 'resolve_message',
    readonly alertId: string,
  ) {}
}

/** A repeat of a resolved incident's alert: the problem came back. `regressionCount` is absolute, after this one. */
@DomainEvent('IncidentReopened')
export class IncidentReopened implements IEvent {
  constructor(
    readonly incidentId: string,
    readonly reopenedAt: string,
    readonly regression: boolean,
    readonly regressionCount: number,
    readonly alertId: string,
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
