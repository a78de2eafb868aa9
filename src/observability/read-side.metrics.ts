import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { ReadSideRunner } from '../cqrs/read-side.runner';
import { Metrics } from './metrics';

/** The read side at every scrape: parked events and lag per consumer, and whether it is live. */
@Injectable()
export class ReadSideMetrics {
  constructor(metrics: Metrics, readSide: ReadSideRunner) {
    new Gauge({
      name: 'read_side_parked_events',
      help: 'Events a read-side consumer parked (failed after its retries, or waiting behind such a failure)',
      labelNames: ['consumer'] as const,
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const c of readSide.status()) this.set({ consumer: c.name }, c.parked);
      },
    });
    new Gauge({
      name: 'read_side_lag_events',
      help: 'Events of its types a read-side consumer has read from the log but not handled yet (-1: reading far behind)',
      labelNames: ['consumer'] as const,
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const c of readSide.status()) this.set({ consumer: c.name }, c.lag ?? -1);
      },
    });
    new Gauge({
      name: 'read_side_live',
      help: '1 when the read-side consumer has caught up with the log, 0 while it catches up or rebuilds',
      labelNames: ['consumer'] as const,
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const c of readSide.status()) this.set({ consumer: c.name }, c.state === 'live' ? 1 : 0);
      },
    });
  }
}
