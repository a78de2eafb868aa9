import type { AttemptView, DeliveryView, WebhookHealth } from '../projections/deliveries.projection';
import type { AttemptRecord } from '../events/delivery.events';
import type { WebhookRecord } from '../projections/webhooks.projection';
import { liveSecrets } from '../webhook.aggregate';
import { circuitOf, type BreakerSettings } from '../delivery/circuit-breaker';
import type { WebhookSettings } from '../events/webhook.events';
import { minSeverityOf, rateLimitOf } from '../webhook-rate-limit';
import type { AttemptDto, DeliveryDto, WebhookDto, WebhookHealthDto, WebhookSecretDto } from './webhooks.dto';

/** Read models → API shapes (snake_case; secrets, header values and the URL's secret parts never leave). */

export function secretsView(webhook: WebhookRecord, now = new Date()): WebhookSecretDto[] {
  return liveSecrets(webhook.secrets, now)
    .reverse()
    .map((s) => ({ id: s.id, created_at: s.createdAt, expires_at: s.expiresAt }));
}

export function healthView(health: WebhookHealth, breaker: BreakerSettings, now = Date.now()): WebhookHealthDto {
  const lastFailureAt = health.last_failure_at ? Date.parse(health.last_failure_at) : null;
  const circuit = circuitOf({ consecutiveFailures: health.consecutive_failures, lastFailureAt }, breaker, now);
  return {
    ...health,
    circuit: { state: circuit.state, open_until: circuit.state === 'open' ? new Date(circuit.until).toISOString() : null },
  };
}

function rateOf(settings: WebhookSettings) {
  const rate = rateLimitOf(settings);
  return rate && { limit: rate.limit, period: rate.period };
}

export function webhookView(webhook: WebhookRecord, health: WebhookHealthDto): WebhookDto {
  const { settings } = webhook;
  return {
    id: webhook.id,
    organisation_id: webhook.organisationId,
    url: settings.displayUrl,
    format: settings.format,
    event_types: settings.eventTypes,
    project_ids: settings.projectIds,
    headers: Object.fromEntries(settings.headerNames.map((name) => [name, '[redacted]'])),
    description: settings.description,
    enabled: settings.enabled,
    disabled_reason: webhook.disabledReason,
    rate_limit: rateOf(settings),
    min_severity: minSeverityOf(settings),
    secrets: secretsView(webhook),
    health,
    created_at: webhook.createdAt,
    updated_at: webhook.updatedAt,
  };
}

export function attemptView(attempt: number, succeeded: boolean, record: AttemptRecord): AttemptDto {
  return {
    attempt,
    succeeded,
    started_at: record.startedAt,
    duration_ms: record.durationMs,
    request_digest: record.request.digest,
    secret_ids: record.request.secretIds,
    response: {
      status: record.response.status,
      headers: record.response.headers,
      body: record.response.body,
      body_truncated: record.response.bodyTruncated,
    },
    error_class: record.errorClass,
    error: record.error,
  };
}

export const attemptsView = (attempts: AttemptView[]) => attempts.map((a) => attemptView(a.attempt, a.succeeded, a));

/**
 * `waitUntil`: when the webhook lets the next attempt through (its circuit is open, or the receiver asked to
 * wait), so `next_attempt_at` never shows a time that has passed while the delivery is held back.
 */
export function deliveryView({ organisation_id: _, ...delivery }: DeliveryView, waitUntil: number | null = null): DeliveryDto {
  const next = delivery.next_attempt_at;
  if (next === null || waitUntil === null || Date.parse(next) >= waitUntil) return delivery;
  return { ...delivery, next_attempt_at: new Date(waitUntil).toISOString() };
}

/** When a webhook lets its next attempt through, or null when nothing holds it back now. */
export function waitUntilOf(streak: { consecutiveFailures: number; lastFailureAt: number | null; pausedUntil: number | null }, breaker: BreakerSettings, now = Date.now()): number | null {
  const circuit = circuitOf(streak, breaker, now);
  const until = Math.max(circuit.state === 'open' ? circuit.until : 0, streak.pausedUntil ?? 0);
  return until > now ? until : null;
}
