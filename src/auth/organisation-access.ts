import { Injectable } from '@nestjs/common';
import { notFound } from '../http/app-error';
import { DEFAULT_ORGANISATION, InstanceService } from '../organisations/instance.service';
import { OrganisationsProjection, type OrganisationView } from '../organisations/projections/organisations.projection';
import type { Principal } from './principal';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Resolves an `:orgId` path parameter (a uuid, or `default`) for a caller. Another organisation's id and an
 * unknown id get the same 404, so a key cannot learn which organisations exist.
 */
@Injectable()
export class OrganisationAccess {
  constructor(
    private readonly instance: InstanceService,
    private readonly organisations: OrganisationsProjection,
  ) {}

  resolve(principal: Principal, orgId: string): OrganisationView {
    const id = orgId === DEFAULT_ORGANISATION ? this.instance.defaultOrganisationId : orgId.toLowerCase();
    const organisation = UUID.test(id) ? this.organisations.organisation(id) : undefined;
    if (!organisation || (principal.kind === 'api_key' && principal.organisationId !== id)) {
      throw notFound(`Organisation '${orgId}' not found`);
    }
    return organisation;
  }
}
