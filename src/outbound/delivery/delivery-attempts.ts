import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { hash, randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { SECRET_BOX, type SecretBox } from '../../config/secret-box';
import { AggregateStore, type Decided } from '../../cqrs/aggregate-store';
import { hydrate, toEventData } from '../../cqrs/domain-event';
import { eventMetadata } from '../../cqrs/request-context';
import { ReadSideRunner } from '../../cqrs/read-side.runner';
import { EVENT_STORE, type EventStore } from '../../event-store/event-store.port';
import { eventType } from '../catalog/event-catalog';
import { CancelDelivery, RecordDeliveryAttempt } from '../commands/delivery.commands';
import { DisableGoneWebhook } from '../commands/webhook.commands';
import { Delivery, isActive, type DeliveryState } from '../delivery.aggregate';
import { buildEnvelope, type SecurityEnvelope } from '../envelope';
import { deliveryStream, type AttemptRecord } from '../events/delivery.events';
import { SecurityEventRecorded } from '../events/security-event.events';
import { webhooksStream, webhookTestStream, WebhookTestSent } from '../events/webhook.events';
import { DELIVERIES_PROJECTION } from '../projections/deliveries.projection';
import { WebhooksProjection, type WebhookRecord } from '../projections/webhooks.projection';
import { liveSecrets } from '../webhook.aggregate';
import { openHeaders, openWebhookSecret, openWebhookUrl } from '../webhook-secrets';
import { BoundedCache } from './bounded-cache';
import { DeliveryPlanner } from './delivery-planner';
import type { DeliveryJob, RunOutcome } from './delivery-queue.port';
import { renderBody } from './formats';
import { judge, retryDelay, type RetryPolicy, type Verdict } from './retry-policy';
import { signatureHeaders, signingKey, type SigningKey } from './signing';
import { WebhookHttpClient } from './webhook-http.client';

export const USER_AGENT = 'Towline-Webhooks/0.1';

/** A job that became due a little early (clock skew between instances) still runs. */
const EARLY_TOLERANCE_MS = 1_000;
/** Opened webhook URLs, header sets and signing keys kept (see `opened`): a few per webhook. */
const OPENED_ENTRIES = 4_096;

export interface SentAttempt {
  record: AttemptRecord;
  verdict: Verdict;
}

/**
 * What became of a job. `attempted`: an HTTP attempt was recorded (the delivery's attempt count moved on), so
 * this attempt can never be due again, even while the due-work table does not show it yet.
 */
export interface AttemptOutcome {
  outcome: Exclude<RunOutcome, 'busy'>;
  attempted: boolean;
}

/**
 * One attempt of one delivery, start to finish: check that the job is still the delivery's due attempt,
 * load the webhook and the event, render, sign, post, and record what happened (the delivery's next step —
 * success, a retry at its due time, or a dead letter — is decided in the same append). Also the synchronous
 * test send.
 */
@Injectable()
export class DeliveryAttempts {
  private readonly policy: RetryPolicy;
  /**
   * On the embedded store this process is the only writer, and an active delivery's stream is written only
   * by its attempts (cancelling included) under their claim — redelivery is refused while it is active — so
   * the stream as the planner or the previous attempt left it (DeliveryPlanner.written) is the stream as it
   * is. Reading it back was one query, JSON parses and a fold per attempt. On EventStoreDB another instance
   * may have written it, so it is always read; and if the worker's revision is ever stale, the append of the
   * outcome is refused and the outcome decided on the stream as it is.
   */
  private readonly soleWriter: boolean;
  /**
   * Opening a sealed value is an AES-GCM decryption (~23 µs, the profile's largest single cost of an attempt
   * with the HMACs), and an attempt opened the URL, the headers and every live secret. They are kept opened,
   * keyed by the webhook, what the value is, and the sealed text itself: a rotation or a changed URL seals a
   * new text, which misses and is opened (and checked against its binding) afresh. The process holds the
   * master key that opens them anyway; bounded, so it never grows with the number of webhooks.
   */
  private readonly opened = new BoundedCache<string, string | Record<string, string> | SigningKey>(OPENED_ENTRIES);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    private readonly commands: CommandBus,
    private readonly aggregates: AggregateStore,
    private readonly webhooks: WebhooksProjection,
    private readonly readSide: ReadSideRunner,
    private readonly http: WebhookHttpClient,
    private readonly planner: DeliveryPlanner,
  ) {
    const { retryScheduleMs, retryJitter, retryAfterMaxMs } = config.outbound;
    this.policy = { scheduleMs: retryScheduleMs, jitter: retryJitter, retryAfterMaxMs };
    this.soleWriter = config.eventStore.kind === 'sqlite';
  }

  /** `answered` is called once a successful answer is in, before it is recorded (the worker frees the lane). */
  async attempt(job: DeliveryJob, signal: AbortSignal, answered?: () => void): Promise<AttemptOutcome> {
    const written = this.soleWriter ? this.planner.written.take(job.deliveryId) : undefined;
    const { state, revision } =
      written && written.state.dueAttempt === job.attempt ? written : await this.aggregates.load(deliveryStream(job.deliveryId), Delivery);
    if (!isActive(state) || state.dueAttempt !== job.attempt) return { outcome: 'stale', attempted: false }; // done, or moved on meanwhile
    if (Date.parse(state.dueAt!) > Date.now() + EARLY_TOLERANCE_MS) return { outcome: 'stale', attempted: false };

    const webhook = this.webhooks.webhook(state.organisationId, state.webhookId);
    if (!webhook || !webhook.settings.enabled) {
      await this.settle(await this.commands.execute(new CancelDelivery(job.deliveryId, webhook ? 'webhook_disabled' : 'webhook_deleted')));
      return { outcome: 'recorded', attempted: false };
    }
    const envelope = await this.envelopeOf(state);
    const { record, verdict } = await this.send(webhook, envelope, job.deliveryId, {}, signal);
    // Cut short by shutdown: nothing is recorded, and the attempt is made again after the restart.
    if (signal.aborted && record.response.status === null) return { outcome: 'aborted', attempted: false };
    if (verdict.succeeded) answered?.();

    const decided = await this.commands.execute<RecordDeliveryAttempt, Decided<DeliveryState>>(
      new RecordDeliveryAttempt(
        job.deliveryId,
        {
          dueAttempt: job.attempt,
          succeeded: verdict.succeeded,
          retryable: verdict.retryable,
          record,
          delay: (retry) => retryDelay(this.policy, retry, verdict.retryAfterMs),
        },
        this.policy.scheduleMs.length,
        { state, revision },
      ),
    );
    if (this.soleWriter && decided.appended && isActive(decided.state)) {
      this.planner.written.set(job.deliveryId, { state: decided.state, revision: decided.appended.nextExpectedRevision });
    }
    if (verdict.gone) await this.commands.execute(new DisableGoneWebhook(state.organisationId, state.webhookId, job.deliveryId));
    // A failure counts towards the webhook's circuit, which the worker reads from the recorded health before
    // it lets another attempt to the webhook start: so it waits until the failure shows there, as before. A
    // success need not: the claim keeps the job from being offered again (DeliveryClaims.settle), and a
    // health that lags behind a success only errs on the careful side.
    if (!verdict.succeeded) await this.settle(decided);
    return { outcome: 'recorded', attempted: true };
  }

  /** POST …/webhooks/:id/test: a signed example event of `type`, sent now; the answer is returned and recorded. */
  async sendTest(webhook: WebhookRecord, type: string): Promise<{ testId: string; record: AttemptRecord }> {
    const definition = eventType(type)!;
    const testId = randomUUID();
    const envelope = buildEnvelope(
      {
        event_type: type,
        organisation_id: webhook.organisationId,
        project_id: null,
        data: definition.example,
        title: `Towline test event (${type})`,
        description: `A test of this webhook, sent on request. The data is the catalog's example for ${type}.`,
      },
      testId,
      new Date(),
    );
    const { record } = await this.send(webhook, envelope, testId, { 'X-Towline-Test': 'true' }, AbortSignal.timeout(this.config.outbound.timeoutMs + 1_000));
    await this.store.append(webhookTestStream(webhook.id), [
      toEventData(new WebhookTestSent(webhook.organisationId, webhook.id, testId, type, record), eventMetadata()),
    ]);
    return { testId, record };
  }

  private async send(
    webhook: WebhookRecord,
    envelope: SecurityEnvelope,
    deliveryId: string,
    extraHeaders: Record<string, string>,
    signal: AbortSignal,
  ): Promise<SentAttempt> {
    const { settings } = webhook;
    const stream = webhooksStream(webhook.organisationId);
    const now = new Date();
    const body = renderBody(settings.format, envelope, { publicUrl: this.config.outbound.publicUrl });
    const secrets = liveSecrets(webhook.secrets, now);
    const headers = {
      ...this.open(`${webhook.id}/headers/${settings.sealedHeaders}`, () => openHeaders(this.box, stream, webhook.id, settings.sealedHeaders)),
      ...extraHeaders,
      'Content-Type': 'application/json',
      'User-Agent': USER_AGENT,
      ...signatureHeaders({
        deliveryId,
        eventType: envelope.event_type,
        timestamp: Math.floor(now.getTime() / 1000),
        body,
        secrets: secrets.map((secret) =>
          this.open(`${webhook.id}/secret/${secret.id}/${secret.sealed}`, () => signingKey(openWebhookSecret(this.box, stream, webhook.id, secret))),
        ),
        signatureHeader: this.config.outbound.signatureHeader,
      }),
    };
    // Opened for attempts only; the connector's SSRF guard checks the address this real URL leads to.
    const url = this.open(`${webhook.id}/url/${settings.sealedUrl}`, () => openWebhookUrl(this.box, stream, webhook.id, settings.sealedUrl));
    const outcome = await this.http.post(url, headers, body, this.config.outbound.timeoutMs, signal);
    const verdict = judge(outcome);
    return {
      verdict,
      record: {
        startedAt: now.toISOString(),
        durationMs: outcome.durationMs,
        request: {
          digest: `sha256:${hash('sha256', body, 'hex')}`,
          bytes: body.length,
          format: settings.format,
          secretIds: secrets.map((s) => s.id),
        },
        response: { status: outcome.status, headers: outcome.headers, body: outcome.body, bodyTruncated: outcome.bodyTruncated },
        errorClass: verdict.errorClass,
        error: verdict.error,
      },
    };
  }

  /** The security event, read from the log where the delivery says it is (or kept from planning it). */
  private async envelopeOf(state: DeliveryState): Promise<SecurityEnvelope> {
    const envelope = await this.planner.planned.get(state.eventStream, state.eventRevision, async () => {
      const [recorded] = await this.store.readStream(state.eventStream, { fromRevision: BigInt(state.eventRevision), maxCount: 1 });
      const event = recorded && hydrate(recorded);
      if (!(event instanceof SecurityEventRecorded)) throw new Error(`No security event at ${state.eventStream}@${state.eventRevision}`);
      return event.envelope;
    });
    if (envelope.id !== state.eventId) throw new Error(`Security event ${state.eventId} is not at ${state.eventStream}@${state.eventRevision}`);
    return envelope;
  }

  private open<T extends string | Record<string, string> | SigningKey>(key: string, open: () => T): T {
    const cached = this.opened.get(key) as T | undefined;
    if (cached !== undefined) return cached;
    const value = open();
    this.opened.set(key, value);
    return value;
  }

  /**
   * Waits until the due-work table (and the webhook's health) reflect the outcome: after a failure, before the
   * worker lets another attempt to the webhook start; after a cancellation, before the claim is released.
   */
  private async settle(decided: Decided<DeliveryState>): Promise<void> {
    if (decided.appended) await this.readSide.catchUp([DELIVERIES_PROJECTION], decided.appended.position);
  }
}
