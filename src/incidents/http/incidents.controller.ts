import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope } from '../../auth/auth.decorators';
import { OrganisationAccess } from '../../auth/organisation-access';
import type { Principal } from '../../auth/principal';
import { ApiErrors } from '../../http/api-errors.decorator';
import { notFound } from '../../http/app-error';
import { OrganisationQuery, organisationScope } from '../../inbound/http/organisation-scope';
import { IncidentsProjection } from '../projections/incidents.projection';
import { IncidentDetailDto, IncidentDto, ListIncidentsQuery } from './incidents.dto';

@ApiTags('incidents')
@ApiBearerAuth()
@Controller('api/incidents')
export class IncidentsController {
  constructor(
    private readonly incidents: IncidentsProjection,
    private readonly access: OrganisationAccess,
  ) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: "List the organisation's incidents, newest first" })
  @ApiOkResponse({ type: IncidentDto, isArray: true })
  @ApiErrors(400, 401, 403, 404)
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListIncidentsQuery): IncidentDto[] {
    const organisation = organisationScope(this.access, principal, query.organisation_id);
    return this.incidents.incidents(organisation.id, {
      status: query.status,
      source: query.source,
      limit: query.limit ?? 100,
      offset: query.offset ?? 0,
    });
  }

  @Get(':incident')
  @RequireScope('read')
  @ApiOperation({ summary: 'Get an incident by id or number (INC-2026-0001), with its alerts and their normalized fields' })
  @ApiOkResponse({ type: IncidentDetailDto })
  @ApiErrors(400, 401, 403, 404)
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('incident') idOrNumber: string,
    @Query() query: OrganisationQuery,
  ): IncidentDetailDto {
    const organisation = organisationScope(this.access, principal, query.organisation_id);
    // Numbers are upper-case and ids lower-case; either is found whatever case it is typed in.
    const key = /^inc-/i.test(idOrNumber) ? idOrNumber.toUpperCase() : idOrNumber.toLowerCase();
    const incident = this.incidents.incident(organisation.id, key);
    if (!incident) throw notFound(`Incident '${idOrNumber}' not found`);
    return { ...incident, alerts: this.incidents.alerts(incident.id) };
  }
}
