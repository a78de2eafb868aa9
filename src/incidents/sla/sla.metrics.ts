import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { Metrics } from '../../observability/metrics';
import { SlaProjection } from './sla.projection';

/**
 * SLA gauges, read from the due-time table at every scrape (so they are right after a restart too):
 * `incident_sla_breached{kind,severity}` — incidents whose acknowledge/resolve target was missed;
 * `incident_sla_running{kind,severity}` — clocks still running.
 */
@Injectable()
export class SlaMetrics {
  constructor(metrics: Metrics, clocks: SlaProjection) {
    const gauge = (name: string, help: string, value: 'breached' | 'running') =>
      new Gauge({
        name,
        help,
        labelNames: ['kind', 'severity'] as const,
        registers: [metrics.registry],
        collect() {
          this.reset();
          for (const row of clocks.counts()) this.set({ kind: row.kind, severity: row.severity }, row[value] ?? 0);
        },
      });
    gauge('incident_sla_breached', 'Incidents whose SLA target was missed, by kind (acknowledge, resolve) and severity', 'breached');
    gauge('incident_sla_running', 'Incident SLA clocks still running, by kind (acknowledge, resolve) and severity', 'running');
  }
}
