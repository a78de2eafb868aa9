import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { CurrentPrincipal, RequireScope } from '../../auth/auth.decorators';
import { OrganisationAccess, OrganisationQuery } from '../../auth/organisation-access';
import type { Principal } from '../../auth/principal';
import { ReadYourWrites } from '../../cqrs/read-your-writes';
import { ApiErrors, error } from '../../http/api-errors.decorator';
import { TAGS } from '../../http/openapi/tags';
import { parseAsOf } from '../../http/as-of';
import { StartTriage, type StartTriageOutcome } from '../../triage/commands/triage.commands';
import { ChangeIncident } from '../commands/incident.commands';
import type { IncidentChange } from '../incident.aggregate';
import { IncidentQueries } from '../incident-queries';
import type { IncidentView } from '../projections/incidents.projection';
import {
  AssignIncidentDto,
  CloseIncidentDto,
  IncidentDetailDto,
  IncidentDetailQuery,
  IncidentPageDto,
  ListIncidentsQuery,
  ReopenIncidentDto,
  ResolveIncidentDto,
  SourceStatsDto,
  StatisticsQuery,
  TriageRerunDto,
  VerifyIncidentDto,
} from './incidents.dto';

const INCIDENT_NOT_FOUND = error('not_found', "Incident 'INC-2026-0001' not found");
const LACKS_WRITE = error('forbidden', "This API key lacks the 'incidents:write' scope");

/** A lifecycle change's outcomes: 409 is an invalid transition (details.current_state names the state) or a conflict. */
const ApiChangeErrors = () => ApiErrors(400, LACKS_WRITE, INCIDENT_NOT_FOUND, 'invalid_transition', 'conflict');

/**
 * Incidents: list, read (with alerts, triage runs and the timeline of the incident's own events), and move
 * through the lifecycle (docs/incidents.md). `:incident` is the uuid or the number (INC-2026-0001), in any
 * case. Another organisation's incident answers 404, like an unknown one.
 */
@ApiTags(TAGS.incidents.name)
@ApiBearerAuth()
@Controller('api/incidents')
export class IncidentsController {
  constructor(
    private readonly commands: ReadYourWrites,
    private readonly queries: IncidentQueries,
    private readonly access: OrganisationAccess,
  ) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({ operationId: 'listIncidents', summary: "List the organisation's incidents, newest first, filtered and paged by cursor" })
  @ApiOkResponse({ type: IncidentPageDto })
  @ApiErrors(error('invalid_request', 'cursor is not a cursor this API returned', [{ field: 'cursor', problems: ['is invalid'] }]), 403, 404)
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListIncidentsQuery): IncidentPageDto {
    return this.queries.page(this.access.scope(principal, query.organisation_id).id, query);
  }

  @Get('statistics')
  @RequireScope('read')
  @ApiOperation({ operationId: 'getIncidentStatistics', summary: 'Per-source statistics: counts by status, severity and verdict; mean times to acknowledge and resolve' })
  @ApiOkResponse({ type: SourceStatsDto, isArray: true })
  @ApiErrors(400, 403, 404)
  stats(@CurrentPrincipal() principal: Principal, @Query() query: StatisticsQuery): SourceStatsDto[] {
    return this.queries.stats(this.access.scope(principal, query.organisation_id).id, query.source);
  }

  @Get(':incident')
  @RequireScope('read')
  @ApiOperation({ operationId: 'getIncident',
    summary: 'Get an incident by id or number (INC-2026-0001): its alerts, triage runs with every step, and timeline',
    description: '`as_of` rebuilds it from its own stream as it stood at that time or position (404 when it did not exist yet).',
  })
  @ApiOkResponse({ type: IncidentDetailDto })
  @ApiErrors(
    error('invalid_request', 'as_of must be an ISO 8601 time with its offset (2026-01-01T12:00:00Z) or a log position (12345/12345)', [
      { field: 'as_of', problems: ['is not a time or a position'] },
    ]),
    403,
    INCIDENT_NOT_FOUND,
  )
  get(@CurrentPrincipal() principal: Principal, @Param('incident') idOrNumber: string, @Query() query: IncidentDetailQuery): Promise<IncidentDetailDto> {
    const incident = this.find(principal, idOrNumber, query);
    return query.as_of === undefined ? this.queries.detail(incident) : this.queries.detailAsOf(incident, parseAsOf(query.as_of));
  }

  @Post(':incident/assign')
  @HttpCode(200)
  @RequireScope('incidents:write')
  @ApiOperation({ operationId: 'assignIncident', summary: 'Assign the incident (assigning the current assignee again changes nothing)' })
  @ApiOkResponse({ type: IncidentDetailDto })
  @ApiChangeErrors()
  assign(
    @CurrentPrincipal() principal: Principal,
    @Param('incident') idOrNumber: string,
    @Query() query: OrganisationQuery,
    @Body() body: AssignIncidentDto,
  ): Promise<IncidentDetailDto> {
    return this.change(principal, idOrNumber, query, { action: 'assign', assignee: body.assignee });
  }

  @Post(':incident/acknowledge')
  @HttpCode(200)
  @RequireScope('incidents:write')
  @ApiOperation({ operationId: 'acknowledgeIncident', summary: 'Acknowledge: someone is on it (from open or needs_manual_triage); stops the time-to-acknowledge clock' })
  @ApiOkResponse({ type: IncidentDetailDto })
  @ApiChangeErrors()
  acknowledge(@CurrentPrincipal() principal: Principal, @Param('incident') idOrNumber: string, @Query() query: OrganisationQuery): Promise<IncidentDetailDto> {
    return this.change(principal, idOrNumber, query, { action: 'acknowledge' });
  }

  @Post(':incident/resolve')
  @HttpCode(200)
  @RequireScope('incidents:write')
  @ApiOperation({ operationId: 'resolveIncident', summary: 'Resolve: fixed (or mitigated, or the risk accepted); verify the fix later' })
  @ApiOkResponse({ type: IncidentDetailDto })
  @ApiChangeErrors()
  resolve(
    @CurrentPrincipal() principal: Principal,
    @Param('incident') idOrNumber: string,
    @Query() query: OrganisationQuery,
    @Body() body: ResolveIncidentDto,
  ): Promise<IncidentDetailDto> {
    return this.change(principal, idOrNumber, query, { action: 'resolve', resolution: body.resolution, note: body.note ?? null });
  }

  @Post(':incident/verify')
  @HttpCode(200)
  @RequireScope('incidents:write')
  @ApiOperation({ operationId: 'verifyIncident', summary: 'Record the re-test of a resolution: passed → verified; failed → back to acknowledged' })
  @ApiOkResponse({ type: IncidentDetailDto })
  @ApiChangeErrors()
  verify(
    @CurrentPrincipal() principal: Principal,
    @Param('incident') idOrNumber: string,
    @Query() query: OrganisationQuery,
    @Body() body: VerifyIncidentDto,
  ): Promise<IncidentDetailDto> {
    return this.change(principal, idOrNumber, query, { action: 'verify', passed: body.passed, note: body.note ?? null });
  }

  @Post(':incident/close')
  @HttpCode(200)
  @RequireScope('incidents:write')
  @ApiOperation({ operationId: 'closeIncident', summary: 'Close without a fix: a false positive, benign, or a duplicate' })
  @ApiOkResponse({ type: IncidentDetailDto })
  @ApiChangeErrors()
  close(
    @CurrentPrincipal() principal: Principal,
    @Param('incident') idOrNumber: string,
    @Query() query: OrganisationQuery,
    @Body() body: CloseIncidentDto,
  ): Promise<IncidentDetailDto> {
    return this.change(principal, idOrNumber, query, { action: 'close', reason: body.reason, note: body.note ?? null });
  }

  @Post(':incident/reopen')
  @HttpCode(200)
  @RequireScope('incidents:write')
  @ApiOperation({ operationId: 'reopenIncident', summary: 'Reopen a resolved, verified or closed incident' })
  @ApiOkResponse({ type: IncidentDetailDto })
  @ApiChangeErrors()
  reopen(
    @CurrentPrincipal() principal: Principal,
    @Param('incident') idOrNumber: string,
    @Query() query: OrganisationQuery,
    @Body() body: ReopenIncidentDto,
  ): Promise<IncidentDetailDto> {
    return this.change(principal, idOrNumber, query, { action: 'reopen', note: body?.note ?? null });
  }

  @Post(':incident/triage')
  @HttpCode(202)
  @RequireScope('incidents:write')
  @ApiOperation({ operationId: 'rerunIncidentTriage',
    summary: "Run the incident's playbook again, as a new run (with the organisation's current settings); the run goes on in the background",
  })
  @ApiTags(TAGS.triage.name)
  @ApiResponse({ status: 202, type: TriageRerunDto })
  @ApiErrors(LACKS_WRITE, INCIDENT_NOT_FOUND, 'conflict')
  async triage(@CurrentPrincipal() principal: Principal, @Param('incident') idOrNumber: string, @Query() query: OrganisationQuery): Promise<TriageRerunDto> {
    const incident = this.find(principal, idOrNumber, query);
    const outcome = await this.commands.execute<StartTriageOutcome>(new StartTriage(incident.id, `manual:${randomUUID()}`));
    return { incident_id: incident.id, incident_number: incident.number, run_id: outcome.started ? outcome.runId : null, status: outcome.reason };
  }

  private find(principal: Principal, idOrNumber: string, query: OrganisationQuery): IncidentView {
    return this.queries.find(this.access.scope(principal, query.organisation_id).id, idOrNumber);
  }

  /** Executes the change and answers once the read models show it (read your writes). */
  private async change(principal: Principal, idOrNumber: string, query: OrganisationQuery, change: IncidentChange): Promise<IncidentDetailDto> {
    const incident = this.find(principal, idOrNumber, query);
    await this.commands.execute(new ChangeIncident(incident.id, change));
    return this.queries.detail(this.queries.current(incident));
  }
}
