import { Body, Controller, Get, HttpCode, Param, Post, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope } from '../../auth/auth.decorators';
import { OrganisationAccess } from '../../auth/organisation-access';
import type { Principal } from '../../auth/principal';
import { ReadYourWrites } from '../../cqrs/read-your-writes';
import { ApiErrors, error } from '../../http/api-errors.decorator';
import { TAGS } from '../../http/openapi/tags';
import { notFound } from '../../http/app-error';
import { TENANCY, type Tenancy } from '../../contracts/tenancy';
import { PauseMonitoring, ResumeMonitoring } from '../commands/monitoring.commands';
import { MonitoringProjection } from '../projections/monitoring.projection';
import { MonitoringDto, PauseMonitoringDto } from './monitoring.dto';

/**
 * Continuous monitoring (ASCAM) of a project. Pausing and resuming need `events:write`, the scope of
 * everything that emits security events (an `admin` key has it too): each emits ascam.paused / ascam.resumed.
 */
@ApiTags(TAGS.projects.name)
@ApiBearerAuth()
@Controller('api/organisations/:orgId/projects/:projectId/monitoring')
export class MonitoringController {
  constructor(
    private readonly commands: ReadYourWrites,
    private readonly monitoring: MonitoringProjection,
    @Inject(TENANCY) private readonly tenancy: Tenancy,
    private readonly access: OrganisationAccess,
  ) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({ operationId: 'getProjectMonitoring', summary: 'Whether monitoring is paused for the project' })
  @ApiOkResponse({ type: MonitoringDto })
  @ApiErrors(403, error('not_found', 'Project not found'))
  get(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string, @Param('projectId') projectId: string): MonitoringDto {
    const { organisationId, project } = this.project(principal, orgId, projectId);
    return this.monitoring.state(organisationId, project);
  }

  @Post('pause')
  @HttpCode(200)
  @RequireScope('events:write')
  @ApiOperation({ operationId: 'pauseProjectMonitoring', summary: 'Pause monitoring for the project and emit ascam.paused (medium); pausing a paused project changes nothing' })
  @ApiOkResponse({ type: MonitoringDto })
  @ApiErrors(400, error('forbidden', "This API key lacks the 'events:write' scope"), error('not_found', 'Project not found'), 'conflict')
  async pause(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgId: string,
    @Param('projectId') projectId: string,
    @Body() body: PauseMonitoringDto,
  ): Promise<MonitoringDto> {
    const { organisationId, project } = this.project(principal, orgId, projectId);
    await this.commands.execute(new PauseMonitoring(organisationId, project, body?.reason ?? null));
    return this.monitoring.state(organisationId, project);
  }

  @Post('resume')
  @HttpCode(200)
  @RequireScope('events:write')
  @ApiOperation({ operationId: 'resumeProjectMonitoring', summary: 'Resume monitoring for the project and emit ascam.resumed; resuming a running project changes nothing' })
  @ApiOkResponse({ type: MonitoringDto })
  @ApiErrors(error('forbidden', "This API key lacks the 'events:write' scope"), error('not_found', 'Project not found'), 'conflict')
  async resume(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string, @Param('projectId') projectId: string): Promise<MonitoringDto> {
    const { organisationId, project } = this.project(principal, orgId, projectId);
    await this.commands.execute(new ResumeMonitoring(organisationId, project));
    return this.monitoring.state(organisationId, project);
  }

  private project(principal: Principal, orgId: string, projectId: string): { organisationId: string; project: string } {
    const organisation = this.access.resolve(principal, orgId);
    const project = this.tenancy.project(organisation.id, projectId.toLowerCase());
    if (!project) throw notFound('Project not found');
    return { organisationId: organisation.id, project: project.id };
  }

}
