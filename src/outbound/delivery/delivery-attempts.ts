import { Inject, Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { hash, randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { SECRET_BOX, type SecretBox } from '../../config/secret-box';
import { AggregateStore, type Decided } from '../../cqrs/aggregate-store';
import { eventTypeOf, hydrate } from '../../cqrs/domain-event';
import { WrongExpectedVersion } from '../../event-store/event-store.errors';
import { ReadSideRunner } from '../../cqrs/read-side.runner';
import { EVENT_STORE, type EventStore } from '../../event-store/event-store.port';
import { eventType } from '../catalog/event-catalog';
import { CancelDelivery, ExpireDelivery, RecordDeliveryAttempt } from '../commands/delivery.commands';
import { DisableGoneWebhook } from '../commands/webhook.commands';
import { decideClaim, Delivery, isActive, roundDeadline, type DeliveryState } from '../delivery.aggregate';
import { buildEnvelope, type SecurityEnvelope } from '../envelope';
import { DeliveryFailed, DeliveryRetryScheduled, deliveryStream, type AttemptRecord } from '../events/delivery.events';
import { SecurityEventRecorded } from '../events/security-event.events';
import { WebhookDeleted, webhooksStream, webhookTestStream, WebhookTestSent } from '../events/webhook.events';
import { DELIVERIES_PROJECTION, DeliveriesProjection } from '../projections/deliveries.projection';
import { WebhooksProjection, type WebhookRecord } from '../projections/webhooks.projection';
import { liveSecrets, Webhooks } from '../webhook.aggregate';
import { openHeaders, openWebhookSecret, openWebhookUrl } from '../webhook-secrets';
import { BoundedCache } from './bounded-cache';
import { DeliveryPlanner } from './delivery-planner';
import { DeliveryMetrics } from './delivery.metrics';
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
  outcome: RunOutcome;
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
  /** Names this process in its claims (DeliveryAttemptClaimed); a claim outlives its process by its lease at most. */
  private readonly instanceId = randomUUID();
  private readonly leaseMs: number;
  private readonly logger = new Logger(DeliveryAttempts.name);
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
    private readonly deliveries: DeliveriesProjection,
    private readonly metrics: DeliveryMetrics,
  ) {
    const { retryScheduleMs, retryJitter, retryAfterMaxMs } = config.outbound;
    this.policy = { scheduleMs: retryScheduleMs, jitter: retryJitter, retryAfterMaxMs };
    this.soleWriter = config.eventStore.kind === 'sqlite';
    this.leaseMs = config.outbound.timeoutMs + 60_000;
  }

  /**
   * `answered` is called once a successful answer is in, before it is recorded (the worker frees the lane).
   *
   * Whether the webhook still exists is asked of the webhooks read model first and, before anything is
   * cancelled, of the webhook's own stream: a read model that has not caught up (a new instance, a missed
   * change) must not cancel live deliveries. A webhook the stream knows is attempted as the stream has it;
   * one it neither knows nor records as deleted is deferred (its creation is not visible yet).
   */
  async attempt(job: DeliveryJob, signal: AbortSignal, answered?: () => void): Promise<AttemptOutcome> {
    const written = this.soleWriter ? this.planner.written.take(job.deliveryId) : undefined;
    let { state, revision } =
      written && written.state.dueAttempt === job.attempt ? written : await this.aggregates.load(deliveryStream(job.deliveryId), Delivery);
    if (!isActive(state) || state.dueAttempt !== job.attempt) return { outcome: 'stale', attempted: false }; // done, or moved on meanwhile
    const now = Date.now();
    if (Date.parse(state.dueAt!) > now + EARLY_TOLERANCE_MS) return { outcome: 'stale', attempted: false };
    const { deadlineMs } = this.config.outbound;
    if (now >= roundDeadline(state, deadlineMs)) {
      await this.deadLetter(job.deliveryId);
      return { outcome: 'recorded', attempted: false };
    }

    const webhook = await this.currentWebhook(state.organisationId, state.webhookId);
    if (webhook === null) return { outcome: 'deferred', attempted: false };
    if (typeof webhook === 'string') {
      await this.settle(await this.commands.execute(new CancelDelivery(job.deliveryId, webhook)));
      return { outcome: 'recorded', attempted: false };
    }
    if (!this.soleWriter) {
      // Several instances may find this attempt due at once: the claim, appended at the revision read, picks one.
      const claim = decideClaim(state, job.deliveryId, job.attempt, this.instanceId, new Date(now + this.leaseMs), new Date(now));
      if (claim.length === 0) return { outcome: 'busy', attempted: false };
      try {
        const appended = await this.aggregates.record(deliveryStream(job.deliveryId), [claim[0]], { expectedRevision: revision });
        state = Delivery.evolve(state, claim[0]);
        revision = appended.nextExpectedRevision;
      } catch (error) {
        if (error instanceof WrongExpectedVersion) return { outcome: 'busy', attempted: false };
        throw error;
      }
    }
    const envelope = await this.envelopeOf(state);
    const { record, verdict } = await this.send(webhook, envelope, job.deliveryId, {}, signal);
    // Cut short by shutdown before an answer: recorded as interrupted (the receiver may have had it), due again at once.
    const interrupted = signal.aborted && record.response.status === null;
    if (verdict.succeeded) answered?.();

    const decided = await this.commands.execute<RecordDeliveryAttempt, Decided<DeliveryState>>(
      new RecordDeliveryAttempt(
        job.deliveryId,
        {
          dueAttempt: job.attempt,
          succeeded: verdict.succeeded,
          retryable: verdict.retryable,
          backPressureMs: verdict.backPressureMs,
          interrupted,
          record: interrupted ? { ...record, errorClass: 'interrupted', error: 'cut short by shutdown' } : record,
          delay: (retry) => retryDelay(this.policy, retry, verdict.retryAfterMs),
        },
        this.policy.scheduleMs.length,
        deadlineMs,
        { state, revision },
      ),
    );
    if (this.soleWriter && decided.appended && isActive(decided.state)) {
      this.planner.written.set(job.deliveryId, { state: decided.state, revision: decided.appended.nextExpectedRevision });
    }
    this.observe(job, webhook, record, verdict, interrupted, decided);
    if (verdict.gone) await this.commands.execute(new DisableGoneWebhook(state.organisationId, state.webhookId, job.deliveryId));
    // A failure counts towards the webhook's circuit, which the worker reads from the recorded health before
    // it lets another attempt to the webhook start: so it waits until the failure shows there, as before. A
    // success need not: the claim keeps the job from being offered again (DeliveryClaims.settle), and a
    // health that lags behind a success only errs on the careful side. Back-pressure pauses the webhook,
    // which the worker reads from there too.
    if (!verdict.succeeded) {
      await this.settle(decided);
      if (verdict.backPressureMs === null && !interrupted) await this.disableIfFailingTooLong(state.organisationId, state.webhookId, job.deliveryId);
    }
    return { outcome: 'recorded', attempted: true };
  }

  /** A job whose round ran past its deadline while it waited (an open circuit, back-pressure): a dead letter now. */
  async expire(job: DeliveryJob): Promise<void> {
    await this.deadLetter(job.deliveryId);
  }

  private async deadLetter(deliveryId: string): Promise<void> {
    const decided = await this.commands.execute<ExpireDelivery, Decided<DeliveryState>>(new ExpireDelivery(deliveryId, this.config.outbound.deadlineMs));
    if (decided.events.length > 0) {
      this.metrics.deadLetters.inc({ reason: 'retries_exhausted' });
      const { webhookId, organisationId, attempts } = decided.state;
      this.logger.warn(
        `Delivery dead-lettered: delivery=${deliveryId} webhook=${webhookId} organisation=${organisationId} reason=retries_exhausted ` +
          `attempts=${attempts} error=deadline_passed`,
      );
    }
    await this.settle(decided);
  }

  /** The webhook as it is now: the read model's, else its stream's; a reason to cancel; or null: not known yet. */
  private async currentWebhook(organisationId: string, webhookId: string): Promise<WebhookRecord | 'webhook_deleted' | 'webhook_disabled' | null> {
    const known = this.webhooks.webhook(organisationId, webhookId);
    if (known?.settings.enabled) return known;
    const { state, recorded } = await this.aggregates.load(webhooksStream(organisationId), Webhooks);
    const truth = state.webhooks.get(webhookId);
    if (truth) {
      if (!truth.settings.enabled) return 'webhook_disabled';
      return { id: webhookId, organisationId, createdAt: known?.createdAt ?? '', updatedAt: known?.updatedAt ?? '', ...truth };
    }
    const deleted = recorded.some((r) => r.type === eventTypeOf(WebhookDeleted) && (r.data as { webhookId?: unknown }).webhookId === webhookId);
    return deleted ? 'webhook_deleted' : null;
  }

  /** Metrics and a log line for every attempt that did not succeed, and for every dead letter. */
  private observe(job: DeliveryJob, webhook: WebhookRecord, record: AttemptRecord, verdict: Verdict, interrupted: boolean, decided: Decided<DeliveryState>): void {
    const outcome = verdict.succeeded ? 'succeeded' : interrupted ? 'interrupted' : verdict.backPressureMs !== null ? 'back_pressure' : 'failed';
    this.metrics.attempted(outcome, record.response.status, record.durationMs);
    if (verdict.succeeded) return;
    // One line each, key=value (Nest's Logger takes text): the display URL only, never the sealed one.
    const fields =
      `delivery=${job.deliveryId} webhook=${webhook.id} organisation=${webhook.organisationId} url=${webhook.settings.displayUrl} ` +
      `status=${record.response.status ?? 'none'} error_class=${record.errorClass ?? 'none'} duration_ms=${record.durationMs}`;
    const next = decided.events.find((e): e is DeliveryRetryScheduled => e instanceof DeliveryRetryScheduled);
    this.logger.warn(`Delivery attempt ${outcome}: ${fields} attempt=${job.attempt} next_attempt_at=${next?.dueAt ?? 'none'}`);
    const failed = decided.events.find((e): e is DeliveryFailed => e instanceof DeliveryFailed);
    if (failed) {
      this.metrics.deadLetters.inc({ reason: failed.reason });
      this.logger.warn(`Delivery dead-lettered: ${fields} reason=${failed.reason} attempts=${failed.attempts}`);
    }
  }

  /** TW_WEBHOOK_AUTO_DISABLE: a webhook that has not succeeded once for that long is disabled, reason `failing`. */
  private async disableIfFailingTooLong(organisationId: string, webhookId: string, deliveryId: string): Promise<void> {
    const { autoDisableMs } = this.config.outbound;
    if (autoDisableMs <= 0) return;
    const { failingSince } = this.deliveries.streak(webhookId);
    if (failingSince === null || Date.now() - failingSince < autoDisableMs) return;
    const disabled = await this.commands.execute<DisableGoneWebhook, boolean>(new DisableGoneWebhook(organisationId, webhookId, deliveryId, 'failing'));
    if (disabled) {
      this.logger.warn(`Webhook disabled: webhook=${webhookId} organisation=${organisationId} reason=failing failing_since=${new Date(failingSince).toISOString()}`);
    }
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
    await this.aggregates.record(webhookTestStream(webhook.id), [new WebhookTestSent(webhook.organisationId, webhook.id, testId, type, record)]);
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
    const verdict = judge(outcome, new Date(), this.config.outbound.retryAfterMaxMs);
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
