import { ValidateBy, type ValidationOptions } from 'class-validator';
import ipaddr from 'ipaddr.js';

/**
 * Outbound settings as the application uses them. The environment variables are declared (and validated, with
 * the decorators below) in src/config/config.ts; this file turns their text into numbers and lists.
 */
export interface OutboundConfig {
  /** TW_ALLOW_INSECURE_WEBHOOKS: accept http:// webhook URLs (https:// only otherwise). */
  allowInsecureWebhooks: boolean;
  /** TW_WEBHOOK_ALLOW_CIDRS: ranges the SSRF guard lets through although they are private, loopback, … */
  allowCidrs: string[];
  /** TW_SIGNATURE_HEADER: the header carrying `sha256=<hex>` (default X-Towline-Signature). */
  signatureHeader: string;
  /** TW_DELIVERY_TIMEOUT: one attempt, connect to last byte read. */
  timeoutMs: number;
  /** TW_DELIVERY_RETRY_SCHEDULE: the base delay before each retry; its length is the number of retries. */
  retryScheduleMs: number[];
  /** TW_DELIVERY_RETRY_JITTER: bounded (uniform in [0.8 × step, step]) or none. */
  retryJitter: RetryJitter;
  /** TW_DELIVERY_RETRY_AFTER_MAX: a receiver's Retry-After is honoured up to this. */
  retryAfterMaxMs: number;
  /** TW_DELIVERY_CONCURRENCY: attempts in flight in this process. */
  concurrency: number;
  /** TW_DELIVERY_ENDPOINT_CONCURRENCY: attempts in flight to one webhook in this process. */
  endpointConcurrency: number;
  /** TW_DELIVERY_ORGANISATION_CONCURRENCY: attempts in flight for one organisation in this process (< concurrency). */
  organisationConcurrency: number;
  /** TW_DELIVERY_DEADLINE: a round of attempts is settled (delivered or dead-lettered) by this long after its first was due. */
  deadlineMs: number;
  /** TW_WEBHOOK_AUTO_DISABLE: a webhook failing continuously this long is disabled (0: never). */
  autoDisableMs: number;
  /** TW_DELIVERY_BREAKER_THRESHOLD: consecutive failed attempts that open a webhook's circuit. */
  breakerThreshold: number;
  /** TW_DELIVERY_BREAKER_COOLDOWN: how long an open circuit waits before one trial attempt. */
  breakerCooldownMs: number;
  /** TW_WEBHOOK_SECRET_GRACE: how long a rotated-out secret keeps signing beside the new one, by default. */
  secretGraceMs: number;
  /**
   * TW_PUBLIC_URL: the "View in Towline" link of Slack and Teams messages, a URL template with `{organisation_id}`,
   * `{event_id}`, `{event_type}` and `{project_id}`; null leaves links out.
   */
  publicUrl: string | null;
  drift: DriftConfig;
}

export interface DriftConfig {
  /** TW_DRIFT_BUCKET: the time bucket alert volume is counted in. */
  bucketMs: number;
  /** TW_DRIFT_THRESHOLD: |z| at or above which a bucket is drift. */
  threshold: number;
  /** TW_DRIFT_MIN_SAMPLES: buckets of baseline needed before anything is reported. */
  minSamples: number;
}

/** Bounded jitter never retries earlier than 80 % of a step (full jitter could retry at once). */
export const RETRY_JITTERS = ['bounded', 'none'] as const;
export type RetryJitter = (typeof RETRY_JITTERS)[number];

/** The variables as text, as config.ts validated them. */
export interface OutboundEnvironment {
  TW_ALLOW_INSECURE_WEBHOOKS: 'true' | 'false';
  TW_WEBHOOK_ALLOW_CIDRS: string;
  TW_SIGNATURE_HEADER: string;
  TW_DELIVERY_TIMEOUT: string;
  TW_DELIVERY_RETRY_SCHEDULE: string;
  TW_DELIVERY_RETRY_JITTER: RetryJitter;
  TW_DELIVERY_RETRY_AFTER_MAX: string;
  TW_DELIVERY_CONCURRENCY: number;
  TW_DELIVERY_ENDPOINT_CONCURRENCY: number;
  TW_DELIVERY_ORGANISATION_CONCURRENCY: number;
  TW_DELIVERY_DEADLINE: string;
  TW_WEBHOOK_AUTO_DISABLE: string;
  TW_DELIVERY_BREAKER_THRESHOLD: number;
  TW_DELIVERY_BREAKER_COOLDOWN: string;
  TW_WEBHOOK_SECRET_GRACE: string;
  TW_PUBLIC_URL: string;
  TW_DRIFT_BUCKET: string;
  TW_DRIFT_THRESHOLD: string;
  TW_DRIFT_MIN_SAMPLES: number;
}

export function outboundConfig(env: OutboundEnvironment): OutboundConfig {
  return {
    allowInsecureWebhooks: env.TW_ALLOW_INSECURE_WEBHOOKS === 'true',
    allowCidrs: splitList(env.TW_WEBHOOK_ALLOW_CIDRS),
    signatureHeader: env.TW_SIGNATURE_HEADER,
    timeoutMs: parseDuration(env.TW_DELIVERY_TIMEOUT),
    retryScheduleMs: splitList(env.TW_DELIVERY_RETRY_SCHEDULE).map(parseDuration),
    retryJitter: env.TW_DELIVERY_RETRY_JITTER,
    retryAfterMaxMs: parseDuration(env.TW_DELIVERY_RETRY_AFTER_MAX),
    concurrency: env.TW_DELIVERY_CONCURRENCY,
    endpointConcurrency: env.TW_DELIVERY_ENDPOINT_CONCURRENCY,
    // 0 (the default): three quarters of the whole, so an organisation whose endpoints all hang leaves a quarter.
    organisationConcurrency: Math.min(
      env.TW_DELIVERY_CONCURRENCY,
      env.TW_DELIVERY_ORGANISATION_CONCURRENCY || Math.max(1, Math.floor((env.TW_DELIVERY_CONCURRENCY * 3) / 4)),
    ),
    deadlineMs: parseDuration(env.TW_DELIVERY_DEADLINE),
    autoDisableMs: parseDuration(env.TW_WEBHOOK_AUTO_DISABLE),
    breakerThreshold: env.TW_DELIVERY_BREAKER_THRESHOLD,
    breakerCooldownMs: parseDuration(env.TW_DELIVERY_BREAKER_COOLDOWN),
    secretGraceMs: parseDuration(env.TW_WEBHOOK_SECRET_GRACE),
    publicUrl: env.TW_PUBLIC_URL || null,
    drift: {
      bucketMs: parseDuration(env.TW_DRIFT_BUCKET),
      threshold: Number(env.TW_DRIFT_THRESHOLD),
      minSamples: env.TW_DRIFT_MIN_SAMPLES,
    },
  };
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d{1,9})(ms|s|m|h|d)$/;

/** `250ms`, `10s`, `1m`, `24h`, `7d`. The unit is required: a bare number is ambiguous. */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw new Error(`Not a duration: '${text}' (use e.g. 250ms, 10s, 1m, 24h)`);
  return Number(match[1]) * UNITS[match[2]];
}

export const isDuration = (value: unknown): boolean => typeof value === 'string' && DURATION.test(value.trim());

/** A comma-separated list of durations; empty means no retries at all. At most 20 steps. */
export const isDurationList = (value: unknown): boolean =>
  typeof value === 'string' && (value.trim() === '' || (splitList(value).length <= 20 && splitList(value).every(isDuration)));

export const isCidrList = (value: unknown): boolean =>
  typeof value === 'string' &&
  splitList(value).every((cidr) => {
    try {
      ipaddr.parseCIDR(cidr);
      return true;
    } catch {
      return false;
    }
  });

/** RFC 9110 token; the signature header may not take a name Towline already sends or a hop-by-hop one. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const RESERVED_SIGNATURE_HEADERS = new Set([
  'x-towline-event',
  'x-towline-delivery',
  'x-towline-timestamp',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'content-type',
  'content-length',
  'host',
  'authorization',
  'user-agent',
]);
export const isSignatureHeaderName = (value: unknown): boolean =>
  typeof value === 'string' && HEADER_NAME.test(value) && !RESERVED_SIGNATURE_HEADERS.has(value.toLowerCase());

/** The placeholders TW_PUBLIC_URL may use, filled from the envelope (URL-encoded). */
export const PUBLIC_URL_PLACEHOLDERS = ['organisation_id', 'event_id', 'event_type', 'project_id'] as const;

/** Fills a TW_PUBLIC_URL template; an unknown placeholder is left as it is (validation refuses it). */
export function fillPublicUrl(template: string, values: Partial<Record<(typeof PUBLIC_URL_PLACEHOLDERS)[number], string | null>>): string {
  return template.replace(/\{([a-z_]+)\}/g, (whole, name: string) =>
    (PUBLIC_URL_PLACEHOLDERS as readonly string[]).includes(name) ? encodeURIComponent(values[name as keyof typeof values] ?? '') : whole,
  );
}

export const isPublicUrl = (value: unknown): boolean => {
  if (value === '') return true;
  if (typeof value !== 'string') return false;
  const names = [...value.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]);
  if (!names.every((name) => (PUBLIC_URL_PLACEHOLDERS as readonly string[]).includes(name))) return false;
  const filled = fillPublicUrl(value, { organisation_id: 'o', event_id: 'e', event_type: 't', project_id: 'p' });
  if (!URL.canParse(filled)) return false;
  const url = new URL(filled);
  return (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password;
};

export const isDecimal = (value: unknown): boolean => typeof value === 'string' && /^\d{1,4}(\.\d{1,6})?$/.test(value) && Number(value) > 0;

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

function rule(name: string, validate: (value: unknown) => boolean, message: string) {
  return (options?: ValidationOptions) => ValidateBy({ name, validator: { validate, defaultMessage: () => message } }, options);
}

export const IsDuration = rule('isDuration', isDuration, 'must be a duration such as 250ms, 15s, 5m or 24h');
export const IsDurationList = rule('isDurationList', isDurationList, 'must be comma-separated durations such as 10s,1m,5m (at most 20)');
export const IsCidrList = rule('isCidrList', isCidrList, 'must be comma-separated CIDR ranges such as 127.0.0.0/8,::1/128');
export const IsSignatureHeaderName = rule(
  'isSignatureHeaderName',
  isSignatureHeaderName,
  'must be an HTTP header name that Towline does not already send (e.g. X-Towline-Signature)',
);
export const IsPublicUrl = rule(
  'isPublicUrl',
  isPublicUrl,
  `must be an http(s) URL without credentials, optionally with the placeholders ${PUBLIC_URL_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
);
export const IsDecimal = rule('isDecimal', isDecimal, 'must be a positive decimal number such as 3 or 2.5');
