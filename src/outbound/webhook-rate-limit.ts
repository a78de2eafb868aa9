import { severityRank, type Severity } from '../contracts/alert';
import type { WebhookFormat, WebhookSettings } from './events/webhook.events';

export const RATE_PERIODS = ['second', 'minute'] as const;
export type RatePeriod = (typeof RATE_PERIODS)[number];

/** At most `limit` attempts per `period` to one webhook, spaced evenly (one every period / limit). */
export interface RateLimit {
  limit: number;
  period: RatePeriod;
}

/**
 * Chat services take about one message a second per webhook (Slack documents 1/s with bursts; Teams
 * workflows and connectors throttle at about the same rate); the others are unpaced unless configured.
 */
export const DEFAULT_RATE_LIMITS: ReadonlyMap<WebhookFormat, RateLimit> = new Map([
  ['slack', { limit: 1, period: 'second' }],
  ['teams', { limit: 1, period: 'second' }],
]);

/** The seed forwards only high-severity events to chat; the others take every severity unless configured. */
export const DEFAULT_MIN_SEVERITIES: ReadonlyMap<WebhookFormat, Severity> = new Map([
  ['slack', 'high'],
  ['teams', 'high'],
]);

const PERIOD_MS: Record<RatePeriod, number> = { second: 1_000, minute: 60_000 };

/** The webhook's pace: its own `rateLimit` (null: none), or its format's default when it never set one. */
export function rateLimitOf(settings: Pick<WebhookSettings, 'format' | 'rateLimit'>): (RateLimit & { intervalMs: number }) | null {
  const limit = settings.rateLimit === undefined ? (DEFAULT_RATE_LIMITS.get(settings.format) ?? null) : settings.rateLimit;
  return limit ? { ...limit, intervalMs: Math.ceil(PERIOD_MS[limit.period] / limit.limit) } : null;
}

/** The lowest severity the webhook takes: its own `minSeverity` (null: every one), or its format's default. */
export function minSeverityOf(settings: Pick<WebhookSettings, 'format' | 'minSeverity'>): Severity | null {
  return settings.minSeverity === undefined ? (DEFAULT_MIN_SEVERITIES.get(settings.format) ?? null) : settings.minSeverity;
}

export const severe = (severity: Severity, minimum: Severity | null): boolean => minimum === null || severityRank(severity) >= severityRank(minimum);
