import { Injectable } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
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

  /**
   * The organisation a request acts on: the one named (`?organisation_id=`), else the instance admin's
   * default organisation or the API key's own. Naming another organisation with an organisation key is a
   * 404, as for one that does not exist.
   */
  scope(principal: Principal, requested: string | undefined): OrganisationView {
    const fallback = principal.kind === 'admin' ? DEFAULT_ORGANISATION : principal.organisationId;
    return this.resolve(principal, requested ?? fallback);
  }
}

/** `?organisation_id=`: which organisation an instance admin means (an organisation key may only name its own). */
export class OrganisationQuery {
  @ApiPropertyOptional({ description: 'Instance admin only: the organisation (uuid or `default`); default: `default`' })
  @IsOptional() @IsString()
  organisation_id?: string;
}
