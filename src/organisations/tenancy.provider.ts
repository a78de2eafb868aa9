import { Injectable } from '@nestjs/common';
import type { ApiKeyView, OrganisationView, ProjectView, Tenancy } from '../contracts/tenancy';
import { InstanceService } from './instance.service';
import { OrganisationsProjection } from './projections/organisations.projection';

/** The organisations capability's answer to the tenancy port (src/contracts/tenancy.ts). */
@Injectable()
export class OrganisationsTenancy implements Tenancy {
  constructor(
    private readonly instance: InstanceService,
    private readonly organisations: OrganisationsProjection,
  ) {}

  get defaultOrganisationId(): string {
    return this.instance.defaultOrganisationId;
  }

  isAdminKey(key: string): boolean {
    return this.instance.isAdminKey(key);
  }

  activeKeyByHash(keyHash: string): ApiKeyView | undefined {
    return this.organisations.activeKeyByHash(keyHash);
  }

  organisation(id: string): OrganisationView | undefined {
    return this.organisations.organisation(id);
  }

  project(organisationId: string, projectId: string): ProjectView | undefined {
    return this.organisations.project(organisationId, projectId);
  }
}
