import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { createHash, randomUUID } from 'node:crypto';
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
import type { DeliveryJob, RunOutcome } from './delivery-queue.port';
import { renderBody } from './formats';
import { judge, retryDelay, type RetryPolicy, type Verdict } from './retry-policy';
import { signatureHeaders } from './signing';
import { WebhookHttpClient } from './webhook-http.client';

export const USER_AGENT = 'Towline-Webhooks/0.1';

/** A job that became due a little early (clock skew between instances) still runs. */
const EARLY_TOLERANCE_MS = 1_000;

export interface SentAttempt {
  record: AttemptRecord;
  verdict: Verdict;
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

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    private readonly commands: CommandBus,
    private readonly aggregates: AggregateStore,
    private readonly webhooks: WebhooksProjection,
    private readonly readSide: ReadSideRunner,
    private readonly http: WebhookHttpClient,
  ) {
    const { retryScheduleMs, retryJitter, retryAfterMaxMs } = config.outbound;
    this.policy = { scheduleMs: retryScheduleMs, jitter: retryJitter, retryAfterMaxMs };
  }

  async attempt(job: DeliveryJob, signal: AbortSignal): Promise<Exclude<RunOutcome, 'busy'>> {
    const stream = deliveryStream(job.deliveryId);
    const { state } = await this.aggregates.load(stream, Delivery);
    if (!isActive(state) || state.dueAttempt !== job.attempt) return 'stale'; // done, or moved on meanwhile
    if (Date.parse(state.dueAt!) > Date.now() + EARLY_TOLERANCE_MS) return 'stale';

    const webhook = this.webhooks.webhook(state.organisationId, state.webhookId);
    if (!webhook || !webhook.settings.enabled) {
      await this.settle(await this.commands.execute(new CancelDelivery(job.deliveryId, webhook ? 'webhook_disabled' : 'webhook_deleted')));
      return 'recorded';
    }
    const envelope = await this.envelopeOf(state);
    const { record, verdict } = await this.send(webhook, envelope, job.deliveryId, {}, signal);
    // Cut short by shutdown: nothing is recorded, and the attempt is made again after the restart.
    if (signal.aborted && record.response.status === null) return 'aborted';

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
      ),
    );
    if (verdict.gone) await this.commands.execute(new DisableGoneWebhook(state.organisationId, state.webhookId, job.deliveryId));
    await this.settle(decided);
    return 'recorded';
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
      ...openHeaders(this.box, stream, webhook.id, settings.sealedHeaders),
      ...extraHeaders,
      'Content-Type': 'application/json',
      'User-Agent': USER_AGENT,
      ...signatureHeaders({
        deliveryId,
        eventType: envelope.event_type,
        timestamp: Math.floor(now.getTime() / 1000),
        body,
        secrets: secrets.map((secret) => openWebhookSecret(this.box, stream, webhook.id, secret)),
        signatureHeader: this.config.outbound.signatureHeader,
      }),
    };
    // Opened for this attempt only; the connector's SSRF guard checks the address this real URL leads to.
    const url = openWebhookUrl(this.box, stream, webhook.id, settings.sealedUrl);
    const outcome = await this.http.post(url, headers, body, this.config.outbound.timeoutMs, signal);
    const verdict = judge(outcome);
    return {
      verdict,
      record: {
        startedAt: now.toISOString(),
        durationMs: outcome.durationMs,
        request: {
          digest: `sha256:${createHash('sha256').update(body).digest('hex')}`,
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

  /** The security event, read from the log where the delivery says it is. */
  private async envelopeOf(state: DeliveryState): Promise<SecurityEnvelope> {
    const [recorded] = await this.store.readStream(state.eventStream, { fromRevision: BigInt(state.eventRevision), maxCount: 1 });
    const event = recorded && hydrate(recorded);
    if (!(event instanceof SecurityEventRecorded) || event.envelope.id !== state.eventId) {
      throw new Error(`Security event ${state.eventId} is not at ${state.eventStream}@${state.eventRevision}`);
    }
    return event.envelope;
  }

  /** The due-work table reflects the outcome before the claim is released, so no one picks it up stale. */
  private async settle(decided: Decided<DeliveryState>): Promise<void> {
    if (decided.appended) await this.readSide.catchUp([DELIVERIES_PROJECTION], decided.appended.position);
  }
}
