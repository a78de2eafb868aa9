import type { RetryJitter } from '../../config/outbound-settings';
import type { HttpOutcome } from './webhook-http.client';

/**
 * How each answer is treated (docs/outbound.md repeats this table):
 * - 2xx: delivered.
 * - 3xx: failed, not retried: redirects are never followed, and the same request would be redirected again.
 * - 429, and 503 with Retry-After: back-pressure — the receiver is fine but asks to wait; the delivery waits
 *   as long as it asked (within bounds), the webhook's other deliveries too, and no retry is used up nor
 *   counted against the circuit.
 * - 408, 425 and other 5xx: failed, retried on the schedule; a Retry-After is honoured within bounds.
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
  /** Back-pressure (429, 503 with Retry-After): how long to wait, already within bounds; null otherwise. */
  backPressureMs: number | null;
}

/** A 429 without Retry-After waits this long. */
export const DEFAULT_BACK_PRESSURE_MS = 5_000;

const RETRYABLE_4XX = new Set([408, 425, 429]);

export function judge(outcome: HttpOutcome, now: Date = new Date(), retryAfterMaxMs = Infinity): Verdict {
  if (outcome.transportError) {
    const { class: errorClass, message } = outcome.transportError;
    return { succeeded: false, retryable: errorClass !== 'unsafe_address', gone: false, errorClass, error: message, retryAfterMs: null, backPressureMs: null };
  }
  const status = outcome.status!;
  const retryAfter = parseRetryAfter(outcome.headers['retry-after'], now);
  const failed = (errorClass: string, retryable: boolean, gone = false, backPressureMs: number | null = null): Verdict => ({
    succeeded: false,
    retryable,
    gone,
    errorClass,
    error: `HTTP ${status}`,
    retryAfterMs: retryable ? retryAfter : null,
    backPressureMs: backPressureMs === null ? null : Math.min(backPressureMs, retryAfterMaxMs),
  });
  if (status >= 200 && status < 300) {
    return { succeeded: true, retryable: false, gone: false, errorClass: null, error: null, retryAfterMs: null, backPressureMs: null };
  }
  if (status >= 300 && status < 400) return failed('redirect', false);
  if (status === 410) return failed('gone', false, true);
  if (status === 429) return failed('rate_limited', true, false, retryAfter ?? DEFAULT_BACK_PRESSURE_MS);
  if (status === 503 && retryAfter !== null) return failed('unavailable', true, false, retryAfter);
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

/** No retry comes earlier than this share of its step. */
export const MIN_JITTER_SHARE = 0.8;

export interface RetryPolicy {
  scheduleMs: readonly number[];
  jitter: RetryJitter;
  retryAfterMaxMs: number;
}

/**
 * The delay before retry number `retry` (0-based): the schedule's step with bounded jitter, uniform in
 * [0.8 × step, step] — enough spread that a burst of failures does not come back in lockstep, and never so
 * early that the schedule's promise (a SIEM down for ten minutes still gets its events) is broken: full
 * jitter drew from [0, step] and spent all three retries within a minute for 8.5 % of deliveries. A
 * Retry-After longer than that wins, capped at retryAfterMaxMs; a shorter one does not make Towline retry
 * sooner than its own schedule.
 */
export function retryDelay(
  policy: RetryPolicy,
  retry: number,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): { delayMs: number; basis: 'backoff' | 'retry_after' } {
  const step = policy.scheduleMs[retry];
  const backoff = policy.jitter === 'bounded' ? Math.round(step * (MIN_JITTER_SHARE + (1 - MIN_JITTER_SHARE) * random())) : step;
  if (retryAfterMs !== null) {
    const honoured = Math.min(retryAfterMs, policy.retryAfterMaxMs);
    if (honoured > backoff) return { delayMs: honoured, basis: 'retry_after' };
  }
  return { delayMs: backoff, basis: 'backoff' };
}
