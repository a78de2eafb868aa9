import type { IEvent } from '@nestjs/cqrs';
import { DomainEvent } from '../../cqrs/domain-event';
import type { AlertResult, IncidentTriage } from '../../incidents/events/incident.events';
import type { AlertAction, NormalizedAlert, VendorFormat } from '../../contracts/alert';

/**
 * Stream `alert-<receipt id>`: one authenticated webhook request. The receipt id is derived from (source,
 * X-Webhook-Timestamp, signature digest), so an exact replay names the same stream: appending its
 * AlertReceived with `no_stream` fails, and the replay is answered from what the first one recorded.
 */

export const alertStream = (receiptId: string) => `alert-${receiptId}`;

@DomainEvent('AlertReceived')
export class AlertReceived implements IEvent {
  constructor(
    readonly receiptId: string,
    readonly organisationId: string,
    readonly source: string,
    readonly projectId: string | null,
    readonly triage: IncidentTriage,
    /** sync: processed while the sender waited; queued: answered 202 queued and processed by the queue worker. */
    readonly mode: 'sync' | 'queued',
    readonly receivedAt: string,
    readonly contentType: string | null,
    readonly userAgent: string | null,
    /**
     * The request body exactly as received: its UTF-8 text when the bytes are valid UTF-8 (nearly always, as
     * JSON requires it), else base64 — `bodyEncoding` says which. The signature and timestamp headers are
     * not kept: they authenticate the request and are no evidence about the alert.
     */
    readonly body: string,
    readonly bodyEncoding: 'utf8' | 'base64',
    readonly bodySha256: string,
    /** The source's format setting the body was normalized with. */
    readonly format: 'auto' | VendorFormat,
    /** One per item of the payload (a batch yields several), in payload order. */
    readonly alerts: NormalizedAlert[],
  ) {}
}

export interface ItemOutcome {
  index: number;
  vendorAlertId: string;
  action: AlertAction;
  result: AlertResult | 'unmatched';
  incidentId: string | null;
  incidentNumber: string | null;
}

/** What every item did, and the answer given for the request: a replay is answered with it again. */
@DomainEvent('AlertProcessed')
export class AlertProcessed implements IEvent {
  constructor(
    readonly receiptId: string,
    readonly processedAt: string,
    readonly outcomes: ItemOutcome[],
    readonly answer: AcceptedAnswer,
  ) {}
}

export interface AnsweredIncident {
  index: number;
  vendor_alert_id: string;
  action: AlertAction;
  result: AlertResult | 'unmatched';
  incident_id: string | null;
  incident_number: string | null;
}

/** The seed's success body; `message` and `incidents` only where the seed's shape cannot say it alone. */
export interface AcceptedAnswer {
  status: 'accepted';
  incident_id: string | null;
  incident_number: string | null;
  message?: string;
  incidents?: AnsweredIncident[];
}

export interface QueuedAnswer {
  status: 'queued';
  queue_id: string;
  message: 'Event queued for processing';
}

export type WebhookAnswer = AcceptedAnswer | QueuedAnswer;

export const queuedAnswer = (receiptId: string): QueuedAnswer => ({
  status: 'queued',
  queue_id: receiptId,
  message: 'Event queued for processing',
});

/**
 * The answer for processed items. One item: exactly the seed's body. Several (an Alertmanager group, a
 * Graph collection): the first item that has an incident stands in the seed's fields, and `incidents`
 * lists every item in payload order. No incident at all (a resolve or acknowledge message that matched
 * nothing): null ids and a message saying so.
 */
export function acceptedAnswer(outcomes: readonly ItemOutcome[]): AcceptedAnswer {
  const first = outcomes.find((o) => o.incidentId !== null);
  const answer: AcceptedAnswer = {
    status: 'accepted',
    incident_id: first?.incidentId ?? null,
    incident_number: first?.incidentNumber ?? null,
  };
  if (!first) answer.message = 'No open incident matched this alert, so none was changed';
  if (outcomes.length > 1) {
    answer.incidents = outcomes.map((o) => ({
      index: o.index,
      vendor_alert_id: o.vendorAlertId,
      action: o.action,
      result: o.result,
      incident_id: o.incidentId,
      incident_number: o.incidentNumber,
    }));
  }
  return answer;
}
