import { Inject, Injectable } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import { notFound } from '../http/app-error';
import { isUuid } from '../contracts/ids';
import { DEFAULT_ORGANISATION, TENANCY, type OrganisationView, type Tenancy } from '../contracts/tenancy';
import type { Principal } from './principal';

/**
 * Resolves an `:orgId` path parameter (a uuid, or `default`) for a caller. Another organisation's id and an
 * unknown id get the same 404, so a key cannot learn which organisations exist.
 */
@Injectable()
export class OrganisationAccess {
  constructor(
    @Inject(TENANCY) private readonly tenancy: Tenancy,
  ) {}

  resolve(principal: Principal, orgId: string): OrganisationView {
    const id = orgId === DEFAULT_ORGANISATION ? this.tenancy.defaultOrganisationId : orgId.toLowerCase();
    const organisation = isUuid(id) ? this.tenancy.organisation(id) : undefined;
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
