import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { ReadSideRunner, type ConsumerStatus } from '../cqrs/read-side.runner';
import { Metrics } from './metrics';

/** The read side at every scrape, per consumer: parked events, lag, and whether it is live. */
@Injectable()
export class ReadSideMetrics {
  constructor(metrics: Metrics, readSide: ReadSideRunner) {
    const perConsumer = (name: string, help: string, value: (status: ConsumerStatus) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['consumer'] as const,
        registers: [metrics.registry],
        collect() {
          this.reset();
          for (const c of readSide.status()) this.set({ consumer: c.name }, value(c));
        },
      });
    perConsumer('read_side_parked_events', 'Events a read-side consumer parked (failed after its retries, or waiting behind such a failure)', (c) => c.parked);
    perConsumer(
      'read_side_lag_events',
      'Events of its types a read-side consumer has read from the log but not handled yet (-1: reading far behind)',
      (c) => c.lag ?? -1,
    );
    perConsumer('read_side_live', '1 when the read-side consumer has caught up with the log, 0 while it catches up or rebuilds', (c) =>
      c.state === 'live' ? 1 : 0,
    );
  }
}
