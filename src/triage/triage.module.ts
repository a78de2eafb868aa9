import { Module } from '@nestjs/common';
import { ObservabilityModule } from '../observability/observability.module';
import { ChangeTriageSettingsHandler } from './commands/triage-settings.handlers';
import { LinkIncidentHandler, StartTriageHandler } from './commands/triage.handlers';
import { TriageSettingsController } from './http/triage-settings.controller';
import { PlaybookConfiguration } from './playbook-configuration';
import { LearnedDomainsProjection } from './projections/learned-domains.projection';
import { SightingsProjection } from './projections/sightings.projection';
import { TriageRunsProjection } from './projections/triage-runs.projection';
import { TriageInputs } from './runner/triage-inputs';
import { TriageRunner } from './runner/triage-runner';
import { TriageWorker } from './runner/triage.worker';
import { TriageSaga } from './sagas/triage.saga';
import { TriageMetrics } from './triage.metrics';
import { TriageSettingsService } from './triage-settings.service';

/**
 * Auto-triage: a saga starts the source's playbook when an incident opens (and again when its playbook asks),
 * the triage worker runs it step by step on the incident's stream, resuming from stored events and due times.
 * docs/triage.md describes the playbooks, their configuration and scoring.
 */
@Module({
  imports: [ObservabilityModule],
  controllers: [TriageSettingsController],
  providers: [
    ChangeTriageSettingsHandler,
    LearnedDomainsProjection,
    TriageSettingsService,
    PlaybookConfiguration,
    StartTriageHandler,
    LinkIncidentHandler,
    TriageSaga,
    TriageRunsProjection,
    SightingsProjection,
    TriageInputs,
    TriageRunner,
    TriageWorker,
    TriageMetrics,
  ],
})
export class TriageModule {}
