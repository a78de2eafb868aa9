import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { CurrentPrincipal, RequireScope } from '../../auth/auth.decorators';
import { OrganisationAccess, OrganisationQuery } from '../../auth/organisation-access';
import type { Principal } from '../../auth/principal';
import { ReadYourWrites } from '../../cqrs/read-your-writes';
import { ApiErrors, error } from '../../http/api-errors.decorator';
import { TAGS } from '../../http/openapi/tags';
import { RegisterSource, RemoveSource, RotateSourceSecret, UpdateSource } from '../commands/source.commands';
import { sourceNotFound } from '../commands/source.handlers';
import { SourcesProjection, type SourceView } from '../projections/sources.projection';
import { REJECTED_PER_SOURCE, RejectedRequests } from '../receiving/rejected-requests';
import { activeSecrets } from '../source.aggregate';
import { generateSourceSecret } from '../source-secrets';
import { SourceTestEvents } from '../source-test-events';
import { DEFAULT_GRACE_PERIOD_SECONDS, newSettings, settingsChanges } from '../source-settings';
import {
  RegisteredSourceDto,
  RegisterSourceDto,
  RejectedWebhookDto,
  RotatedSecretDto,
  RotateSecretDto,
  SourceDto,
  TestEventDto,
  UpdateSourceDto,
} from './sources.dto';

const SOURCE_NOT_FOUND = error('not_found', "Webhook source 'email-gateway' not found");
const LACKS_WRITE = error('forbidden', "This API key lacks the 'sources:write' scope");

/**
 * Registering and managing webhook sources: the systems allowed to post alerts to `/api/webhooks/:source`.
 * Secrets go in (or are generated and shown once) and never come out again.
 */
@ApiTags(TAGS.sources.name)
@ApiBearerAuth()
@Controller('api/webhooks')
export class SourcesController {
  constructor(
    private readonly commands: ReadYourWrites,
    private readonly sources: SourcesProjection,
    private readonly access: OrganisationAccess,
    private readonly rejections: RejectedRequests,
    private readonly testEvents: SourceTestEvents,
  ) {}

  @Post()
  @RequireScope('sources:write')
  // The seed's own curl example sends its JSON without a Content-Type (so, as a form).
  @RouteConfig({ formEncodedJson: true })
  @ApiOperation({ operationId: 'registerSource', summary: 'Register a webhook source; the secret is generated (and returned once) when not given' })
  @ApiCreatedResponse({ type: RegisteredSourceDto })
  @ApiErrors(400, 'unknown_playbook', LACKS_WRITE, 404, 'source_exists', 'conflict')
  async register(@CurrentPrincipal() principal: Principal, @Body() body: RegisterSourceDto): Promise<RegisteredSourceDto> {
    const organisation = this.access.scope(principal, body.organisation_id);
    const secret = body.secret ?? generateSourceSecret();
    await this.commands.execute(new RegisterSource(organisation.id, body.source, newSettings(body, 'api'), randomUUID(), secret));
    const view = this.toDto(this.sources.source(organisation.id, body.source)!);
    return body.secret === undefined ? { ...view, secret } : view;
  }

  @Get()
  @RequireScope('read')
  @ApiOperation({ operationId: 'listSources', summary: "List the organisation's webhook sources" })
  @ApiOkResponse({ type: SourceDto, isArray: true })
  @ApiErrors(400, 403, 404)
  list(@CurrentPrincipal() principal: Principal, @Query() query: OrganisationQuery): SourceDto[] {
    const organisation = this.access.scope(principal, query.organisation_id);
    return this.sources.list(organisation.id).map((s) => this.toDto(s));
  }

  @Get(':source')
  @RequireScope('read')
  @ApiOperation({ operationId: 'getSource', summary: 'Get a webhook source: its settings, and the ids and expiry of its secrets' })
  @ApiOkResponse({ type: SourceDto })
  @ApiErrors(400, 403, SOURCE_NOT_FOUND)
  get(@CurrentPrincipal() principal: Principal, @Param('source') name: string, @Query() query: OrganisationQuery): SourceDto {
    return this.toDto(this.find(principal, name, query));
  }

  @Get(':source/rejected')
  @RequireScope('read')
  @ApiOperation({ operationId: 'listRejectedAlerts',
    summary: 'Requests that passed the signature check but were refused for their content, newest first',
    description:
      `What a tool sent that was refused (not JSON, not alerts, too many alerts, invalid text), with the reason, so it can ` +
      `be fixed at the sender. Kept in memory on this instance only, never in the event log: at most ${REJECTED_PER_SOURCE} ` +
      'per source, gone on restart.',
  })
  @ApiOkResponse({ type: RejectedWebhookDto, isArray: true })
  @ApiErrors(400, 403, SOURCE_NOT_FOUND)
  rejected(@CurrentPrincipal() principal: Principal, @Param('source') name: string, @Query() query: OrganisationQuery): RejectedWebhookDto[] {
    return this.rejections.list(this.find(principal, name, query).stream);
  }

  @Patch(':source')
  @RequireScope('sources:write')
  @ApiOperation({ operationId: 'updateSource', summary: 'Change some settings of a source (not its secret: rotate it); null clears playbook, severity_mapping, project_id' })
  @ApiOkResponse({ type: SourceDto })
  @ApiErrors(400, 'unknown_playbook', LACKS_WRITE, SOURCE_NOT_FOUND, 'source_managed_by_config', 'conflict')
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('source') name: string,
    @Query() query: OrganisationQuery,
    @Body() body: UpdateSourceDto,
  ): Promise<SourceDto> {
    const source = this.find(principal, name, query);
    await this.commands.execute(new UpdateSource(source.organisationId, name, settingsChanges(body), 'api'));
    return this.toDto(this.sources.source(source.organisationId, name)!);
  }

  @Delete(':source')
  @HttpCode(204)
  @RequireScope('sources:write')
  @ApiOperation({ operationId: 'removeSource', summary: 'Remove a source: its URL answers 404 unknown_source from now on, and its name is free again' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors(400, LACKS_WRITE, SOURCE_NOT_FOUND, 'source_managed_by_config', 'conflict')
  async remove(@CurrentPrincipal() principal: Principal, @Param('source') name: string, @Query() query: OrganisationQuery): Promise<void> {
    const source = this.find(principal, name, query);
    await this.commands.execute(new RemoveSource(source.organisationId, name, 'api'));
  }

  @Post(':source/secrets')
  @RequireScope('sources:write')
  @ApiOperation({ operationId: 'rotateSourceSecret',
    summary: 'Rotate the signing secret: the new one verifies at once, the previous ones for the grace period (default 24 h)',
  })
  @ApiCreatedResponse({ type: RotatedSecretDto })
  @ApiErrors(400, LACKS_WRITE, SOURCE_NOT_FOUND, 'source_managed_by_config', 'conflict')
  async rotate(
    @CurrentPrincipal() principal: Principal,
    @Param('source') name: string,
    @Query() query: OrganisationQuery,
    @Body() body: RotateSecretDto,
  ): Promise<RotatedSecretDto> {
    const source = this.find(principal, name, query);
    const secret = body.secret ?? generateSourceSecret();
    const secretId = randomUUID();
    const grace = body.grace_period_seconds ?? DEFAULT_GRACE_PERIOD_SECONDS;
    await this.commands.execute(new RotateSourceSecret(source.organisationId, name, secretId, secret, grace, 'api'));
    const secrets = this.toDto(this.sources.source(source.organisationId, name)!).secrets;
    const rotatedAt = Date.parse(secrets.find((s) => s.id === secretId)!.created_at);
    const rotated: RotatedSecretDto = {
      secret_id: secretId,
      previous_secrets_expire_at: new Date(rotatedAt + grace * 1000).toISOString(),
      secrets,
    };
    return body.secret === undefined ? { ...rotated, secret } : rotated;
  }

  @Post(':source/test-event')
  @HttpCode(200)
  @RequireScope('sources:write')
  @ApiOperation({ operationId: 'signSourceTestEvent',
    summary: 'A test event signed with the current secret, to post unchanged to /api/webhooks/:source (tw-cli webhook test)',
    description: 'The body is fixed by Towline ({"event_type":"test",...}), so this cannot sign anything else. Test events are verified and answered, and open no incident.',
  })
  @ApiOkResponse({ type: TestEventDto })
  @ApiErrors(400, LACKS_WRITE, SOURCE_NOT_FOUND)
  testEvent(@CurrentPrincipal() principal: Principal, @Param('source') name: string, @Query() query: OrganisationQuery): TestEventDto {
    return this.testEvents.sign(this.find(principal, name, query));
  }

  private find(principal: Principal, name: string, query: OrganisationQuery): SourceView {
    const organisation = this.access.scope(principal, query.organisation_id);
    const source = this.sources.source(organisation.id, name);
    if (!source) throw sourceNotFound(name);
    return source;
  }

  private toDto(source: SourceView): SourceDto {
    const { settings } = source;
    return {
      source: source.name,
      organisation_id: source.organisationId,
      webhook_path: `/api/webhooks/${source.name}`,
      auto_triage: settings.autoTriage,
      playbook: settings.playbook,
      format: settings.format,
      severity_mapping: settings.severityMapping,
      project_id: settings.projectId,
      mode: settings.mode,
      rate_limit: settings.rateLimit ?? null,
      dedup_field: settings.dedupField ?? null,
      managed_by: settings.managedBy,
      secrets: activeSecrets(source.secrets, Date.now()).map((s) => ({ id: s.id, created_at: s.createdAt, expires_at: s.expiresAt })),
      created_at: source.createdAt,
      updated_at: source.updatedAt,
    };
  }
}
