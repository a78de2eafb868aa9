import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { CurrentPrincipal, RequireScope } from '../../auth/auth.decorators';
import { OrganisationAccess } from '../../auth/organisation-access';
import type { Principal } from '../../auth/principal';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import type { Decided } from '../../cqrs/aggregate-store';
import { ReadSideRunner } from '../../cqrs/read-side.runner';
import { ApiErrors } from '../../http/api-errors.decorator';
import { conflict, invalidRequest, notFound } from '../../http/app-error';
import { TENANCY, type Tenancy } from '../../contracts/tenancy';
import { RequestRedelivery } from '../commands/delivery.commands';
import { CreateWebhook, DeleteWebhook, RotateWebhookSecret, UpdateWebhook, type WebhookInput } from '../commands/webhook.commands';
import type { WebhookCommandResult } from '../commands/webhook.handlers';
import type { DeliveryState } from '../delivery.aggregate';
import { AddressPolicy } from '../delivery/address-policy';
import { DeliveryAttempts } from '../delivery/delivery-attempts';
import { checkWebhookUrl } from '../delivery/destination';
import { generateWebhookSecret } from '../delivery/signing';
import { DELIVERIES_PROJECTION, DeliveriesProjection } from '../projections/deliveries.projection';
import { WEBHOOKS_PROJECTION, WebhooksProjection, type WebhookRecord } from '../projections/webhooks.projection';
import { headerProblems } from '../webhook-headers';
import { isUuid } from '../../contracts/ids';
import { ApiOutcome } from './api-outcome';
import { decodeCursor, encodeCursor, instantMs } from './query-params';
import { attemptView, deliveryView, healthView, secretsView, webhookView } from './views';
import {
  CreatedWebhookDto,
  CreateWebhookDto,
  DeliveryPageDto,
  ListDeliveriesQuery,
  RecoverDeliveriesDto,
  RecoveredDto,
  RotatedWebhookSecretDto,
  RotateWebhookSecretDto,
  TestWebhookDto,
  UpdateWebhookDto,
  WebhookDto,
  WebhookTestResultDto,
} from './webhooks.dto';

const URL_OUTCOMES =
  'invalid_url: not http(s), http without TW_ALLOW_INSECURE_WEBHOOKS, credentials in it; unsafe_url: it names or resolves to an address the SSRF guard refuses; invalid_request: anything else malformed (details name the fields)';

/**
 * An organisation's webhooks: where its security events go. Secrets and header values go in (or are
 * generated and shown once) and never come out again; the URL comes out only in its display form.
 */
@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('api/organisations/:orgId/webhooks')
export class WebhooksController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly commands: CommandBus,
    private readonly webhooks: WebhooksProjection,
    private readonly deliveries: DeliveriesProjection,
    @Inject(TENANCY) private readonly tenancy: Tenancy,
    private readonly access: OrganisationAccess,
    private readonly readSide: ReadSideRunner,
    private readonly policy: AddressPolicy,
    private readonly attempts: DeliveryAttempts,
  ) {}

  @Post()
  @RequireScope('webhooks:write')
  @ApiOperation({ summary: 'Create a webhook (at most 10 per organisation); the secret is generated and returned once when not given' })
  @ApiCreatedResponse({ type: CreatedWebhookDto })
  @ApiOutcome(400, URL_OUTCOMES)
  @ApiOutcome(409, 'webhook_limit_reached: the organisation already has 10 webhooks')
  @ApiErrors(401, 403, 404, 413, 415)
  async create(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string, @Body() body: CreateWebhookDto): Promise<CreatedWebhookDto> {
    const organisation = this.access.resolve(principal, orgId);
    const input: WebhookInput = {
      url: await this.checkUrl(body.url),
      format: body.format ?? 'envelope',
      eventTypes: body.event_types ?? null,
      projectIds: this.checkProjects(organisation.id, body.project_ids ?? null),
      headers: this.checkHeaders(body.headers ?? {}),
      description: body.description ?? null,
      enabled: body.enabled ?? true,
    };
    const id = randomUUID();
    const secret = body.secret ?? generateWebhookSecret();
    await this.run(new CreateWebhook(organisation.id, id, input, randomUUID(), secret));
    const view = this.view(this.webhooks.webhook(organisation.id, id)!);
    return body.secret === undefined ? { ...view, secret } : view;
  }

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: "List the organisation's webhooks, with their health" })
  @ApiOkResponse({ type: WebhookDto, isArray: true })
  @ApiErrors(401, 403, 404)
  list(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string): WebhookDto[] {
    const organisation = this.access.resolve(principal, orgId);
    return this.webhooks.list(organisation.id).map((w) => this.view(w));
  }

  @Get(':id')
  @RequireScope('read')
  @ApiOperation({ summary: 'Get a webhook: its settings, secret ids, and health (success rate, last success, consecutive failures, circuit)' })
  @ApiOkResponse({ type: WebhookDto })
  @ApiErrors(401, 403, 404)
  get(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string, @Param('id') id: string): WebhookDto {
    return this.view(this.find(principal, orgId, id));
  }

  @Patch(':id')
  @RequireScope('webhooks:write')
  @ApiOperation({ summary: 'Change a webhook; only the fields given change' })
  @ApiOkResponse({ type: WebhookDto })
  @ApiOutcome(400, URL_OUTCOMES)
  @ApiErrors(401, 403, 404, 409, 413, 415)
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgId: string,
    @Param('id') id: string,
    @Body() body: UpdateWebhookDto,
  ): Promise<WebhookDto> {
    const webhook = this.find(principal, orgId, id);
    const changes: Partial<WebhookInput> = {};
    if (body.url !== undefined) changes.url = await this.checkUrl(body.url);
    if (body.format !== undefined) changes.format = body.format;
    if (body.event_types !== undefined) changes.eventTypes = body.event_types;
    if (body.project_ids !== undefined) changes.projectIds = this.checkProjects(webhook.organisationId, body.project_ids);
    if (body.headers !== undefined) changes.headers = this.checkHeaders(body.headers);
    if (body.description !== undefined) changes.description = body.description;
    if (body.enabled !== undefined) changes.enabled = body.enabled;
    await this.run(new UpdateWebhook(webhook.organisationId, webhook.id, changes));
    return this.view(this.webhooks.webhook(webhook.organisationId, webhook.id)!);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('webhooks:write')
  @ApiOperation({ summary: 'Delete a webhook; its pending deliveries are cancelled, its delivery history stays' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(401, 403, 404, 409)
  async remove(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string, @Param('id') id: string): Promise<void> {
    const webhook = this.find(principal, orgId, id);
    await this.run(new DeleteWebhook(webhook.organisationId, webhook.id));
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @RequireScope('webhooks:write')
  @ApiOperation({
    summary:
      'Rotate the signing secret. The new one signs at once; the previous ones keep signing beside it (one webhook-signature each) for the grace period',
  })
  @ApiOkResponse({ type: RotatedWebhookSecretDto })
  @ApiErrors(400, 401, 403, 404, 409)
  async rotateSecret(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgId: string,
    @Param('id') id: string,
    @Body() body: RotateWebhookSecretDto,
  ): Promise<RotatedWebhookSecretDto> {
    const webhook = this.find(principal, orgId, id);
    const secretId = randomUUID();
    const secret = body?.secret ?? generateWebhookSecret();
    const graceMs = body?.grace_period_seconds !== undefined ? body.grace_period_seconds * 1000 : this.config.outbound.secretGraceMs;
    const previousExpireAt = new Date(Date.now() + graceMs).toISOString();
    await this.run(new RotateWebhookSecret(webhook.organisationId, webhook.id, secretId, secret, previousExpireAt));
    const answer: RotatedWebhookSecretDto = {
      secret_id: secretId,
      previous_secrets_expire_at: previousExpireAt,
      secrets: secretsView(this.webhooks.webhook(webhook.organisationId, webhook.id)!),
    };
    return body?.secret === undefined ? { ...answer, secret } : answer;
  }

  @Post(':id/test')
  @HttpCode(200)
  @RequireScope('webhooks:write')
  @ApiOperation({ summary: 'Send a signed test event now (even to a disabled webhook) and return what the receiver answered; it is recorded, not retried' })
  @ApiOkResponse({ type: WebhookTestResultDto })
  @ApiErrors(400, 401, 403, 404)
  async test(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgId: string,
    @Param('id') id: string,
    @Body() body: TestWebhookDto,
  ): Promise<WebhookTestResultDto> {
    const webhook = this.find(principal, orgId, id);
    const type = body?.event_type ?? 'finding.created';
    const { testId, record } = await this.attempts.sendTest(webhook, type);
    return { test_id: testId, event_type: type, result: attemptView(1, record.errorClass === null, record) };
  }

  @Get(':id/deliveries')
  @RequireScope('read')
  @ApiOperation({ summary: "The webhook's deliveries, newest first: status, attempts, next attempt, last status code" })
  @ApiOkResponse({ type: DeliveryPageDto })
  @ApiErrors(400, 401, 403, 404)
  listDeliveries(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgId: string,
    @Param('id') id: string,
    @Query() query: ListDeliveriesQuery,
  ): DeliveryPageDto {
    const webhook = this.find(principal, orgId, id);
    const limit = query.limit ?? 100;
    const { items, last } = this.deliveries.list(webhook.id, { status: query.status, before: decodeCursor(query.cursor), limit });
    return { items: items.map(deliveryView), next_cursor: last !== null && items.length === limit ? encodeCursor(last) : null };
  }

  @Post(':id/recover')
  @HttpCode(202)
  @RequireScope('webhooks:write')
  @ApiOperation({ summary: "Redeliver the webhook's dead letters that failed in a time window (each keeps its delivery id)" })
  @ApiAcceptedResponse({ type: RecoveredDto })
  @ApiOutcome(409, 'webhook_disabled: enable the webhook first')
  @ApiErrors(400, 401, 403, 404)
  async recover(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgId: string,
    @Param('id') id: string,
    @Body() body: RecoverDeliveriesDto,
  ): Promise<RecoveredDto> {
    const webhook = this.find(principal, orgId, id);
    if (!webhook.settings.enabled) throw conflict('The webhook is disabled; enable it first', 'webhook_disabled');
    const since = new Date(instantMs(body.since)).toISOString();
    const until = body.until === undefined ? undefined : new Date(instantMs(body.until)).toISOString();
    const ids = this.deliveries.failedSince(webhook.id, since, until);
    let last: Decided<DeliveryState>['appended'] = null;
    for (const deliveryId of ids) {
      const decided = await this.commands.execute<RequestRedelivery, Decided<DeliveryState>>(
        new RequestRedelivery(webhook.organisationId, deliveryId, 'recover'),
      );
      last = decided.appended ?? last;
    }
    if (last) await this.readSide.catchUp([DELIVERIES_PROJECTION], last.position);
    return { delivery_ids: ids };
  }

  private find(principal: Principal, orgId: string, id: string): WebhookRecord {
    const organisation = this.access.resolve(principal, orgId);
    const webhook = isUuid(id.toLowerCase()) ? this.webhooks.webhook(organisation.id, id.toLowerCase()) : undefined;
    if (!webhook) throw notFound('Webhook not found');
    return webhook;
  }

  private view(webhook: WebhookRecord): WebhookDto {
    const breaker = { threshold: this.config.outbound.breakerThreshold, cooldownMs: this.config.outbound.breakerCooldownMs };
    return webhookView(webhook, healthView(this.deliveries.health(webhook.id), breaker));
  }

  private checkUrl(url: string): Promise<string> {
    return checkWebhookUrl(url, this.policy, this.config.outbound.allowInsecureWebhooks);
  }

  private checkProjects(organisationId: string, projectIds: string[] | null): string[] | null {
    if (projectIds === null) return null;
    const ids = projectIds.map((p) => p.toLowerCase());
    const unknown = ids.filter((p) => !this.tenancy.project(organisationId, p));
    if (unknown.length) {
      throw invalidRequest(`Not projects of this organisation: ${unknown.join(', ')}`, [{ field: 'project_ids', problems: unknown.map((p) => `${p} is not a project of this organisation`) }]);
    }
    return ids;
  }

  private checkHeaders(headers: Record<string, string>): Record<string, string> {
    const problems = headerProblems(headers, this.config.outbound.signatureHeader);
    if (problems.length) throw invalidRequest(`Invalid headers: ${problems.join('; ')}`, [{ field: 'headers', problems }]);
    return headers;
  }

  /** Executes a command and waits until the webhook table shows it. */
  private async run(command: object): Promise<void> {
    const appended = await this.commands.execute<object, WebhookCommandResult>(command);
    if (appended) await this.readSide.catchUp([WEBHOOKS_PROJECTION], appended.position);
  }
}
