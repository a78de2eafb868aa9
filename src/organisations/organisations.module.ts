import { Module } from '@nestjs/common';
import { OrganisationAccess } from '../auth/organisation-access';
import {
  CreateOrganisationHandler,
  CreateProjectHandler,
  IssueApiKeyHandler,
  RevokeApiKeyHandler,
} from './commands/organisation.handlers';
import { OrganisationsController } from './http/organisations.controller';
import { InstanceService } from './instance.service';
import { OrganisationsProjection } from './projections/organisations.projection';

@Module({
  controllers: [OrganisationsController],
  providers: [
    CreateOrganisationHandler,
    CreateProjectHandler,
    IssueApiKeyHandler,
    RevokeApiKeyHandler,
    OrganisationsProjection,
    InstanceService,
    OrganisationAccess,
  ],
  exports: [OrganisationsProjection, InstanceService, OrganisationAccess],
})
export class OrganisationsModule {}
