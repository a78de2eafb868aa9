import { Injectable } from '@nestjs/common';
import { MonitoringProjection } from './projections/monitoring.projection';

/**
 * Whether continuous monitoring is paused for a project, for other capabilities (the triage saga skips
 * paused projects). Answers from the monitoring projection, fed from the `monitoring-<projectId>` streams.
 */
@Injectable()
export class MonitoringService {
  constructor(private readonly monitoring: MonitoringProjection) {}

  isProjectPaused(organisationId: string, projectId: string): boolean {
    return this.monitoring.state(organisationId, projectId).paused;
  }
}
