import { Global, Module } from '@nestjs/common';
import { OrganisationAccess } from '../auth/organisation-access';
import { TENANCY } from '../contracts/tenancy';
import {
  CreateOrganisationHandler,
  CreateProjectHandler,
  IssueApiKeyHandler,
  RevokeApiKeyHandler,
} from './commands/organisation.handlers';
import { OrganisationsController } from './http/organisations.controller';
import { InstanceService } from './instance.service';
import { OrganisationsProjection } from './projections/organisations.projection';
import { OrganisationsTenancy } from './tenancy.provider';

/**
 * Tenancy for the whole application: global, so every capability reaches the tenancy port and
 * OrganisationAccess without importing this module (capabilities never import each other).
 */
@Global()
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
    { provide: TENANCY, useClass: OrganisationsTenancy },
  ],
  exports: [TENANCY, OrganisationAccess, InstanceService],
})
export class OrganisationsModule {}
