import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ObservabilityModule } from '../observability/observability.module';
import { ChangeIncidentHandler, RecordAlertHandler } from './commands/incident.handlers';
import { IncidentsController } from './http/incidents.controller';
import { IncidentNumbers } from './incident-numbers';
import { IncidentQueries } from './incident-queries';
import { IncidentsProjection } from './projections/incidents.projection';
import { SourceStatsProjection } from './projections/source-stats.projection';
import { parseSlaTargets, SLA_TARGETS } from './sla/sla-targets';
import { SlaMetrics } from './sla/sla.metrics';
import { SlaProjection } from './sla/sla.projection';
import { SlaTimer } from './sla/sla-timer';

/**
 * Incidents: opened and updated from received alerts (RecordAlert), numbered per organisation, moved through
 * their lifecycle through the API (docs/incidents.md), with SLA clocks and per-source statistics.
 */
@Module({
  imports: [ObservabilityModule],
  controllers: [IncidentsController],
  providers: [
    { provide: SLA_TARGETS, inject: [APP_CONFIG], useFactory: (config: AppConfig) => parseSlaTargets(config.slaTargets) },
    RecordAlertHandler,
    ChangeIncidentHandler,
    IncidentNumbers,
    IncidentQueries,
    IncidentsProjection,
    SourceStatsProjection,
    SlaProjection,
    SlaTimer,
    SlaMetrics,
  ],
})
export class IncidentsModule {}
