import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { Metrics } from '../../observability/metrics';
import { DeliveriesProjection } from '../projections/deliveries.projection';
import { circuitOf } from './circuit-breaker';

/** 2xx … 5xx, or `none` when no answer came (timeout, connection, TLS, a refused address). */
export const statusClass = (status: number | null): string => (status === null ? 'none' : `${Math.floor(status / 100)}xx`);

export type AttemptOutcomeLabel = 'succeeded' | 'failed' | 'back_pressure' | 'interrupted';

const CIRCUIT_VALUES = { closed: 0, half_open: 1, open: 2 } as const;

/**
 * Outbound delivery metrics. Counters and the histogram count what this instance did; the gauges are read
 * from the deliveries read model at every scrape (so they are right after a restart, and the same on every
 * instance of a cluster). Webhook ids are bounded labels: at most 10 per organisation.
 * - `outbound_attempts_total{outcome,status_class}`, `outbound_attempt_duration_seconds{outcome}`;
 * - `outbound_dead_letters_total{reason}`;
 * - `outbound_backlog{organisation_id,webhook_id}`: deliveries still to be made;
 * - `outbound_circuit_state{webhook_id}`: 0 closed, 1 half-open, 2 open.
 */
@Injectable()
export class DeliveryMetrics {
  readonly attempts: Counter<'outcome' | 'status_class'>;
  readonly duration: Histogram<'outcome'>;
  readonly deadLetters: Counter<'reason'>;

  constructor(metrics: Metrics, deliveries: DeliveriesProjection, @Inject(APP_CONFIG) config: AppConfig) {
    const registers = [metrics.registry];
    this.attempts = new Counter({
      name: 'outbound_attempts_total',
      help: 'Delivery attempts made by this instance, by outcome (succeeded, failed, back_pressure, interrupted) and HTTP status class (none: no answer)',
      labelNames: ['outcome', 'status_class'] as const,
      registers,
    });
    this.duration = new Histogram({
      name: 'outbound_attempt_duration_seconds',
      help: 'Time from sending a delivery attempt to its answer (or its timeout), by outcome',
      labelNames: ['outcome'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'outbound_dead_letters_total',
      help: 'Deliveries dead-lettered by this instance, by reason (retries_exhausted, not_retryable)',
      labelNames: ['reason'] as const,
      registers,
    });
    new Gauge({
      name: 'outbound_backlog',
      help: 'Deliveries pending or waiting for a retry, per webhook',
      labelNames: ['organisation_id', 'webhook_id'] as const,
      registers,
      collect() {
        this.reset();
        for (const row of deliveries.backlog()) this.set({ organisation_id: row.organisationId, webhook_id: row.webhookId }, row.due);
      },
    });
    const breaker = { threshold: config.outbound.breakerThreshold, cooldownMs: config.outbound.breakerCooldownMs };
    new Gauge({
      name: 'outbound_circuit_state',
      help: "Each webhook's circuit: 0 closed, 1 half-open, 2 open",
      labelNames: ['webhook_id'] as const,
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const [webhookId, streak] of deliveries.streaks()) this.set({ webhook_id: webhookId }, CIRCUIT_VALUES[circuitOf(streak, breaker, now).state]);
      },
    });
  }

  attempted(outcome: AttemptOutcomeLabel, status: number | null, durationMs: number): void {
    this.attempts.inc({ outcome, status_class: statusClass(status) });
    this.duration.observe({ outcome }, durationMs / 1000);
  }
}
