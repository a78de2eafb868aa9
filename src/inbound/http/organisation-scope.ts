import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import type { OrganisationAccess } from '../../auth/organisation-access';
import type { Principal } from '../../auth/principal';
import { DEFAULT_ORGANISATION } from '../../organisations/instance.service';
import type { OrganisationView } from '../../organisations/projections/organisations.projection';

/**
 * The organisation a request acts on: the one named (`organisation_id`), else the instance admin's default
 * organisation or the API key's own. Naming another organisation with an organisation key is a 404, as for
 * one that does not exist.
 */
export function organisationScope(access: OrganisationAccess, principal: Principal, requested: string | undefined): OrganisationView {
  const fallback = principal.kind === 'admin' ? DEFAULT_ORGANISATION : principal.organisationId;
  return access.resolve(principal, requested ?? fallback);
}

/** `?organisation_id=`: which organisation an instance admin means (an organisation key may only name its own). */
export class OrganisationQuery {
  @ApiPropertyOptional({ description: 'Instance admin only: the organisation (uuid or `default`); default: `default`' })
  @IsOptional() @IsString()
  organisation_id?: string;
}
