import type { RetryJitter } from '../../config/outbound-settings';
import type { HttpOutcome } from './webhook-http.client';

/**
 * How each answer is treated (docs/outbound.md repeats this table):
 * - 2xx: delivered.
 * - 3xx: failed, not retried: redirects are never followed, and the same request would be redirected again.
 * - 408, 425, 429 and 5xx: failed, retried on the schedule; a Retry-After is honoured within bounds.
 * - 410 Gone: failed, not retried, and the webhook is disabled.
 * - any other 4xx: failed, not retried: the receiver refused this request itself (auth, shape), so the same
 *   bytes would be refused again; the dead letter stays visible and can be redelivered once it is fixed.
 * - no answer (timeout, DNS, connection, TLS): retried.
 * - an address the SSRF guard refuses: failed, not retried.
 */
export interface Verdict {
  succeeded: boolean;
  retryable: boolean;
  /** The webhook must be disabled (410). */
  gone: boolean;
  errorClass: string | null;
  error: string | null;
  /** From Retry-After, when the answer carried one. */
  retryAfterMs: number | null;
}

const RETRYABLE_4XX = new Set([408, 425, 429]);

export function judge(outcome: HttpOutcome, now: Date = new Date()): Verdict {
  if (outcome.transportError) {
    const { class: errorClass, message } = outcome.transportError;
    return { succeeded: false, retryable: errorClass !== 'unsafe_address', gone: false, errorClass, error: message, retryAfterMs: null };
  }
  const status = outcome.status!;
  const failed = (errorClass: string, retryable: boolean, gone = false): Verdict => ({
    succeeded: false,
    retryable,
    gone,
    errorClass,
    error: `HTTP ${status}`,
    retryAfterMs: retryable ? parseRetryAfter(outcome.headers['retry-after'], now) : null,
  });
  if (status >= 200 && status < 300) return { succeeded: true, retryable: false, gone: false, errorClass: null, error: null, retryAfterMs: null };
  if (status >= 300 && status < 400) return failed('redirect', false);
  if (status === 410) return failed('gone', false, true);
  if (status === 429) return failed('rate_limited', true);
  if (status === 408) return failed('timeout', true);
  if (RETRYABLE_4XX.has(status)) return failed('client_error', true);
  if (status >= 400 && status < 500) return failed('client_error', false);
  if (status >= 500 && status < 600) return failed('server_error', true);
  return failed('unexpected_status', false);
}

/** Retry-After as delta-seconds or an HTTP-date, in ms from `now`; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: Date): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d{1,10}$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now.getTime());
}

export interface RetryPolicy {
  scheduleMs: readonly number[];
  jitter: RetryJitter;
  retryAfterMaxMs: number;
}

/**
 * The delay before retry number `retry` (0-based): the schedule's step with jitter — full jitter draws
 * uniformly from [0, step] (AWS's "full jitter", which spreads a burst of failures best), equal jitter from
 * [step/2, step]. A Retry-After longer than that wins, capped at retryAfterMaxMs; a shorter one does not
 * make Towline retry sooner than its own schedule.
 */
export function retryDelay(
  policy: RetryPolicy,
  retry: number,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): { delayMs: number; basis: 'backoff' | 'retry_after' } {
  const step = policy.scheduleMs[retry];
  const backoff =
    policy.jitter === 'full' ? Math.round(random() * step) : policy.jitter === 'equal' ? Math.round(step / 2 + (random() * step) / 2) : step;
  if (retryAfterMs !== null) {
    const honoured = Math.min(retryAfterMs, policy.retryAfterMaxMs);
    if (honoured > backoff) return { delayMs: honoured, basis: 'retry_after' };
  }
  return { delayMs: backoff, basis: 'backoff' };
}
