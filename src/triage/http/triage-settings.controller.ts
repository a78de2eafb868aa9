import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope } from '../../auth/auth.decorators';
import { OrganisationAccess } from '../../auth/organisation-access';
import type { Principal } from '../../auth/principal';
import { ReadYourWrites } from '../../cqrs/read-your-writes';
import { ApiErrors, error } from '../../http/api-errors.decorator';
import { TAGS } from '../../http/openapi/tags';
import { ChangeTriageSettings } from '../commands/triage-settings.commands';
import type { TriageSettingsResult } from '../commands/triage-settings.handlers';
import type { TriageSettingsChange } from '../events/triage-settings.events';
import { BRAND_LIST, protectedDomains, toBody } from '../triage-settings';
import { TriageSettingsService } from '../triage-settings.service';
import { TriageSettingsBodyDto, TriageSettingsDto, TriageSettingsEntryDto, TriageSettingsEntryQuery } from './triage-settings.dto';

/**
 * An organisation's triage settings. Every change is a TriageSettingsChanged event on the organisation's
 * stream, read back from it, so the answer and the next triage agree without waiting for any read model.
 */
@ApiTags(TAGS.triage.name)
@ApiBearerAuth()
@Controller('api/organisations/:orgId/triage-settings')
export class TriageSettingsController {
  constructor(
    private readonly commands: ReadYourWrites,
    private readonly access: OrganisationAccess,
    private readonly settings: TriageSettingsService,
  ) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({ operationId: 'getTriageSettings', summary: "The organisation's triage settings, with its learned domains and the protected domains in force" })
  @ApiOkResponse({ type: TriageSettingsDto })
  @ApiErrors(403, 404)
  async get(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string): Promise<TriageSettingsDto> {
    return this.view(this.access.resolve(principal, orgId).id);
  }

  @Put()
  @RequireScope('admin')
  @ApiOperation({ operationId: 'replaceTriageSettings', summary: 'Replace the triage settings (keys left out take their defaults); effective for the next triage step' })
  @ApiOkResponse({ type: TriageSettingsDto })
  @ApiErrors(400, error('forbidden', "This API key lacks the 'admin' scope"), 404, 'conflict')
  async put(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string, @Body() body: TriageSettingsBodyDto): Promise<TriageSettingsDto> {
    return this.change(principal, orgId, { kind: 'replace' }, { ...body });
  }

  @Post('entries')
  @HttpCode(200)
  @RequireScope('admin')
  @ApiOperation({ operationId: 'addTriageSettingsEntry', summary: 'Add one entry to a list (protected or unprotected domains, allow or block lists, critical hosts)' })
  @ApiOkResponse({ type: TriageSettingsDto })
  @ApiErrors(400, error('forbidden', "This API key lacks the 'admin' scope"), 404, 'conflict')
  async add(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string, @Body() body: TriageSettingsEntryDto): Promise<TriageSettingsDto> {
    return this.change(principal, orgId, { kind: 'add', list: body.list, value: body.value, ...(body.criticality ? { criticality: body.criticality } : {}) });
  }

  @Delete('entries')
  @RequireScope('admin')
  @ApiOperation({ operationId: 'removeTriageSettingsEntry', summary: 'Remove one entry from a list (a missing entry changes nothing)' })
  @ApiOkResponse({ type: TriageSettingsDto })
  @ApiErrors(400, error('forbidden', "This API key lacks the 'admin' scope"), 404, 'conflict')
  async remove(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string, @Query() query: TriageSettingsEntryQuery): Promise<TriageSettingsDto> {
    return this.change(principal, orgId, { kind: 'remove', list: query.list, value: query.value });
  }

  private async change(principal: Principal, orgId: string, change: TriageSettingsChange, body?: unknown): Promise<TriageSettingsDto> {
    const organisation = this.access.resolve(principal, orgId);
    await this.commands.execute<TriageSettingsResult>(new ChangeTriageSettings(organisation.id, change, body));
    return this.view(organisation.id);
  }

  private async view(organisationId: string): Promise<TriageSettingsDto> {
    const { origin, document, changedAt, learned } = await this.settings.organisation(organisationId);
    return {
      organisation_id: organisationId,
      origin,
      changed_at: changedAt,
      ...toBody(document),
      learned_domains: learned,
      brand_list: { source: BRAND_LIST.source, domains: [...BRAND_LIST.domains] },
      effective_protected_domains: protectedDomains(document, learned),
    };
  }
}
