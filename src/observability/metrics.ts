import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * The application's Prometheus metrics, in a registry of its own (not prom-client's global one), so that
 * several applications in one process — the tests — never collide. Label values must be bounded: callers
 * pass registered source names or `unknown`, never a name taken verbatim from a URL.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  /** Every POST /api/webhooks/:source answered, by HTTP status: `rate(webhook_received_total[5m])`. */
  readonly webhookReceived = new Counter({
    name: 'webhook_received_total',
    help: 'Inbound webhook requests answered, by source and HTTP status',
    labelNames: ['source', 'status'] as const,
    registers: [this.registry],
  });

  /** Refused or failed ones, by error code: `rate(webhook_errors_total[5m])`. */
  readonly webhookErrors = new Counter({
    name: 'webhook_errors_total',
    help: 'Inbound webhook requests refused or failed, by source and error code',
    labelNames: ['source', 'code'] as const,
    registers: [this.registry],
  });

  readonly webhookDuration = new Histogram({
    name: 'webhook_request_duration_seconds',
    help: 'Time to answer an inbound webhook request, by source and HTTP status',
    labelNames: ['source', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /**
   * Requests answered 429 by a rate limit: `webhook` (per source; the source is in webhook_errors_total's
   * `rate_limited` code) or `api` (per API key, which is no label: keys are unbounded).
   */
  readonly rateLimited = new Counter({
    name: 'rate_limited_total',
    help: 'Requests refused with 429 rate_limited, by limit (webhook: per source, api: per API key)',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
