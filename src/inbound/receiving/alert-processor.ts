import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { AggregateStore } from '../../cqrs/aggregate-store';
import { hydrate } from '../../cqrs/domain-event';
import { ReadYourWrites, type Written } from '../../cqrs/read-your-writes';
import { runWithContext } from '../../cqrs/request-context';
import { StreamNotFound, WrongExpectedVersion } from '../../event-store/event-store.errors';
import { EVENT_STORE, type EventStore, type JsonObject } from '../../event-store/event-store.port';
import { RecordAlert, type AlertOutcome } from '../../incidents/commands/incident.commands';
import { acceptedAnswer, AlertProcessed, AlertReceived, alertStream, type AcceptedAnswer, type ItemOutcome } from '../events/alert.events';

export interface ProcessedAlert {
  answer: AcceptedAnswer;
  /** What processing wrote on the incidents (null when this call wrote none), for read-your-writes. */
  written: Written | null;
  /**
   * Settles once the outcome (AlertProcessed) is recorded on the receipt. The answer does not wait for it: the
   * incident events are the durable part of the answer, and an outcome lost in a crash is recorded again by
   * the queue reactor, which finds the same results on the incident.
   */
  recorded: Promise<void>;
}

/** The AlertReceived event's identity, so that whoever processes it stamps the same causation on what follows. */
export interface ReceivedCause {
  eventId: string;
  correlationId: string;
  /** The request that delivered the webhook, as AlertReceived's metadata names it. */
  requestId?: string;
}

/** The cause as AlertReceived's own metadata records it. */
export function causeOf(eventId: string, metadata: JsonObject): ReceivedCause {
  return {
    eventId,
    correlationId: typeof metadata.$correlationId === 'string' ? metadata.$correlationId : eventId,
    requestId: typeof metadata.request_id === 'string' ? metadata.request_id : undefined,
  };
}

/**
 * Turns a received webhook into incident changes, item by item, and records the outcome (AlertProcessed)
 * on its receipt stream. Idempotent from end to end — each item is recorded on its incident once, and
 * AlertProcessed is appended only right after AlertReceived — so the synchronous path, the queue reactor,
 * a replayed request and a restart can all run it on the same receipt and agree on one answer. Within the
 * process, a second caller joins the run in progress instead of repeating it.
 */
@Injectable()
export class AlertProcessor {
  /** Runs in progress by receipt; `receipt`: the synchronous path's append of it, not yet known to succeed. */
  private readonly running = new Map<string, { work: Promise<ProcessedAlert>; receipt?: Promise<unknown> }>();

  constructor(
    private readonly commands: CommandBus,
    private readonly aggregates: AggregateStore,
    private readonly readYourWrites: ReadYourWrites,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  /**
   * `receiptRecorded`: the synchronous path starts processing while its AlertReceived is still being
   * appended (so the incident number's claim shares that commit), and passes the append here; the receipt is
   * then known to be new, and nothing is appended on the incident before the receipt is durable.
   */
  process(received: AlertReceived, cause: ReceivedCause, receiptRecorded?: Promise<unknown>): Promise<ProcessedAlert> {
    const running = this.running.get(received.receiptId);
    if (running) {
      if (!running.receipt) return running.work;
      // Started by the synchronous path before its receipt was durable: joined once it is. If it was refused
      // (that request was itself a replay of an earlier one), that run fails, and this caller goes on alone.
      return running.receipt.then(
        () => running.work,
        () => this.process(received, cause, receiptRecorded),
      );
    }
    // Who processes does not change the record: the events are attributed to the source, caused by the receipt.
    const context = {
      requestId: cause.requestId,
      correlationId: cause.correlationId,
      causationId: cause.eventId,
      actor: `source:${received.source}`,
      organisationId: received.organisationId,
    };
    const work = runWithContext(context, () => this.run(received, receiptRecorded));
    const forget = () => {
      if (this.running.get(received.receiptId)?.work === work) this.running.delete(received.receiptId);
    };
    // Joinable until the outcome is recorded, so a replay or the queue worker never processes it a second time.
    void work.then(
      (processed) => processed.recorded,
      () => undefined,
    ).finally(forget);
    // A receipt that turns out to be a replay (its append refused) was never this run's to process.
    receiptRecorded?.catch(forget);
    this.running.set(received.receiptId, { work, receipt: receiptRecorded });
    return work;
  }

  /** The recorded outcome of a receipt, or undefined while it is unprocessed. */
  private async processed(receiptId: string): Promise<AlertProcessed | undefined> {
    try {
      const [event] = await this.store.readStream(alertStream(receiptId), { fromRevision: 1n, maxCount: 1 });
      const processed = event && hydrate(event);
      return processed instanceof AlertProcessed ? processed : undefined;
    } catch (error) {
      if (error instanceof StreamNotFound) return undefined;
      throw error;
    }
  }

  private async run(received: AlertReceived, receiptRecorded?: Promise<unknown>): Promise<ProcessedAlert> {
    if (!receiptRecorded) {
      const done = await this.processed(received.receiptId);
      if (done) return { answer: done.answer, written: null, recorded: Promise.resolve() };
    }

    const outcomes: ItemOutcome[] = [];
    const { written } = await this.readYourWrites.collect(() => this.recordItems(received, outcomes, receiptRecorded));
    await receiptRecorded;

    const processed = new AlertProcessed(received.receiptId, new Date().toISOString(), outcomes, acceptedAnswer(outcomes));
    const recorded = this.aggregates.record(alertStream(received.receiptId), [processed], { expectedRevision: 0n }).then(
      () => undefined,
      (error: unknown) => {
        // Another instance recorded it first (same results, read from the same incidents): nothing to do.
        if (!(error instanceof WrongExpectedVersion)) throw error;
      },
    );
    return { answer: processed.answer, written, recorded };
  }

  /** One item after the other: items of one batch may share an incident, and in order they number in order. */
  private async recordItems(received: AlertReceived, outcomes: ItemOutcome[], receiptRecorded?: Promise<unknown>): Promise<void> {
    for (const [index, alert] of received.alerts.entries()) {
      const outcome = await this.commands.execute<RecordAlert, AlertOutcome>(
        new RecordAlert(
          received.organisationId,
          received.source,
          received.projectId,
          received.triage,
          received.receiptId,
          index,
          received.receivedAt,
          alert,
          receiptRecorded,
        ),
      );
      outcomes.push({
        index,
        vendorAlertId: alert.vendor_alert_id,
        action: alert.action,
        result: outcome.result,
        incidentId: outcome.incidentId,
        incidentNumber: outcome.incidentNumber,
      });
    }
  }
}
