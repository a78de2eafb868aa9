import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { Metrics } from '../observability/metrics';
import { TriageRunsProjection } from './projections/triage-runs.projection';

/** `triage_runs{playbook,status}`: runs by state (pending, running, completed, failed, skipped), read at every scrape. */
@Injectable()
export class TriageMetrics {
  constructor(metrics: Metrics, runs: TriageRunsProjection) {
    new Gauge({
      name: 'triage_runs',
      help: 'Auto-triage runs by playbook and status (pending, running, completed, failed: needs manual triage, skipped)',
      labelNames: ['playbook', 'status'] as const,
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const row of runs.counts()) this.set({ playbook: row.playbook, status: row.status }, row.n);
      },
    });
  }
}
