import { Module } from '@nestjs/common';
import { OrganisationsModule } from '../organisations/organisations.module';
import { RecordAlertHandler } from './commands/record-alert.handler';
import { IncidentsController } from './http/incidents.controller';
import { IncidentNumbers } from './incident-numbers';
import { IncidentsProjection } from './projections/incidents.projection';

/** Incidents: opened and updated from received alerts (RecordAlert), numbered per organisation, read through the API. */
@Module({
  imports: [OrganisationsModule],
  controllers: [IncidentsController],
  providers: [RecordAlertHandler, IncidentNumbers, IncidentsProjection],
})
export class IncidentsModule {}
