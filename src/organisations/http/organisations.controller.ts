import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { generateApiKey, hashApiKey } from '../../auth/api-key';
import { CurrentPrincipal, InstanceAdminOnly, RequireScope } from '../../auth/auth.decorators';
import { OrganisationAccess } from '../../auth/organisation-access';
import type { Principal } from '../../auth/principal';
import { ReadYourWrites } from '../../cqrs/read-your-writes';
import { ApiErrors, error } from '../../http/api-errors.decorator';
import { TAGS } from '../../http/openapi/tags';
import { notFound } from '../../http/app-error';
import { CreateOrganisation, CreateProject, IssueApiKey, RevokeApiKey } from '../commands/organisation.commands';
import { OrganisationsProjection } from '../projections/organisations.projection';
import {
  ApiKeyDto,
  CreateApiKeyDto,
  CreatedApiKeyDto,
  CreateOrganisationDto,
  CreateProjectDto,
  OrganisationDto,
  ProjectDto,
} from './organisations.dto';

// Organisations, their projects and their API keys: one tag each (per method).
@ApiBearerAuth()
@Controller('api/organisations')
export class OrganisationsController {
  constructor(
    private readonly commands: ReadYourWrites,
    private readonly organisations: OrganisationsProjection,
    private readonly access: OrganisationAccess,
  ) {}

  @Post()
  @InstanceAdminOnly()
  @ApiTags(TAGS.organisations.name)
  @ApiOperation({ operationId: 'createOrganisation', summary: 'Create an organisation (instance admin key only)' })
  @ApiCreatedResponse({ type: OrganisationDto })
  @ApiErrors(400, error('forbidden', 'Only the instance admin key may do this'))
  async create(@Body() body: CreateOrganisationDto): Promise<OrganisationDto> {
    const id = randomUUID();
    await this.commands.execute(new CreateOrganisation(id, body.name));
    return this.organisations.organisation(id)!;
  }

  @Get()
  @RequireScope('read')
  @ApiTags(TAGS.organisations.name)
  @ApiOperation({ operationId: 'listOrganisations', summary: 'List organisations: all for the instance admin, its own for an organisation key' })
  @ApiOkResponse({ type: OrganisationDto, isArray: true })
  @ApiErrors(403)
  list(@CurrentPrincipal() principal: Principal): OrganisationDto[] {
    if (principal.kind === 'admin') return this.organisations.organisations();
    return [this.organisations.organisation(principal.organisationId)].filter((o) => o !== undefined);
  }

  @Get(':orgId')
  @RequireScope('read')
  @ApiTags(TAGS.organisations.name)
  @ApiOperation({ operationId: 'getOrganisation', summary: 'Get an organisation (`default` names the default organisation)' })
  @ApiOkResponse({ type: OrganisationDto })
  @ApiErrors(403, 404)
  get(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string): OrganisationDto {
    return this.access.resolve(principal, orgId);
  }

  @Post(':orgId/projects')
  @RequireScope('admin')
  @ApiTags(TAGS.projects.name)
  @ApiOperation({ operationId: 'createProject', summary: 'Create a project in an organisation' })
  @ApiCreatedResponse({ type: ProjectDto })
  @ApiErrors(400, error('forbidden', "This API key lacks the 'admin' scope"), 404, 'project_exists', 409)
  async createProject(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgId: string,
    @Body() body: CreateProjectDto,
  ): Promise<ProjectDto> {
    const organisation = this.access.resolve(principal, orgId);
    const id = randomUUID();
    await this.commands.execute(new CreateProject(organisation.id, id, body.name));
    return this.projectView(organisation.id, id);
  }

  @Get(':orgId/projects')
  @RequireScope('read')
  @ApiTags(TAGS.projects.name)
  @ApiOperation({ operationId: 'listProjects', summary: 'List the projects of an organisation' })
  @ApiOkResponse({ type: ProjectDto, isArray: true })
  @ApiErrors(403, 404)
  projects(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string): ProjectDto[] {
    const organisation = this.access.resolve(principal, orgId);
    return this.organisations.projects(organisation.id).map((p) => this.toProject(p));
  }

  @Post(':orgId/api-keys')
  @RequireScope('admin')
  @ApiTags(TAGS.apiKeys.name)
  @ApiOperation({ operationId: 'createApiKey', summary: 'Issue an API key; the key is in this response only' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiErrors(400, error('forbidden', "This API key lacks the 'admin' scope"), 404, 'conflict')
  async createApiKey(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgId: string,
    @Body() body: CreateApiKeyDto,
  ): Promise<CreatedApiKeyDto> {
    const organisation = this.access.resolve(principal, orgId);
    const id = randomUUID();
    const key = generateApiKey();
    await this.commands.execute(new IssueApiKey(organisation.id, id, body.name, body.scopes, hashApiKey(key)));
    return { id, name: body.name, scopes: body.scopes, key };
  }

  @Get(':orgId/api-keys')
  @RequireScope('admin')
  @ApiTags(TAGS.apiKeys.name)
  @ApiOperation({ operationId: 'listApiKeys', summary: 'List API keys (never their secrets), revoked ones included' })
  @ApiOkResponse({ type: ApiKeyDto, isArray: true })
  @ApiErrors(error('forbidden', "This API key lacks the 'admin' scope"), 404)
  apiKeys(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string): ApiKeyDto[] {
    const organisation = this.access.resolve(principal, orgId);
    return this.organisations.apiKeys(organisation.id).map(({ organisation_id: _, ...key }) => key);
  }

  @Delete(':orgId/api-keys/:keyId')
  @HttpCode(204)
  @RequireScope('admin')
  @ApiTags(TAGS.apiKeys.name)
  @ApiOperation({ operationId: 'revokeApiKey', summary: 'Revoke an API key, effective immediately' })
  @ApiNoContentResponse({ description: 'Revoked (also when it already was)' })
  @ApiErrors(error('forbidden', "This API key lacks the 'admin' scope"), error('not_found', 'API key not found'), 409)
  async revokeApiKey(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgId: string,
    @Param('keyId') keyId: string,
  ): Promise<void> {
    const organisation = this.access.resolve(principal, orgId);
    if (!this.organisations.apiKey(organisation.id, keyId)) throw notFound('API key not found');
    await this.commands.execute(new RevokeApiKey(organisation.id, keyId));
  }


  private projectView(organisationId: string, projectId: string): ProjectDto {
    return this.toProject(this.organisations.project(organisationId, projectId)!);
  }

  private toProject({ id, name, created_at }: ProjectDto): ProjectDto {
    return { id, name, created_at };
  }
}
