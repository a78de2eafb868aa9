import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { CurrentPrincipal, RequireScope } from '../../auth/auth.decorators';
import { OrganisationAccess } from '../../auth/organisation-access';
import type { Principal } from '../../auth/principal';
import { isUuid } from '../../contracts/ids';
import { ReadYourWrites } from '../../cqrs/read-your-writes';
import { ApiErrors, error } from '../../http/api-errors.decorator';
import { TAGS } from '../../http/openapi/tags';
import { notFound } from '../../http/app-error';
import { parseAsOf } from '../../http/as-of';
import { CreateWebhook, DeleteWebhook, RotateWebhookSecret, UpdateWebhook } from '../commands/webhook.commands';
import { DeliveryAttempts } from '../delivery/delivery-attempts';
import { generateWebhookSecret } from '../delivery/signing';
import { WebhooksProjection, type WebhookRecord } from '../projections/webhooks.projection';
import { WebhookAdministration } from '../webhook-administration';
import { Idempotent } from './idempotent.decorator';
import { instantMs } from './query-params';
import { attemptView, secretsView } from './views';
import {
  AsOfQuery,
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

const WEBHOOK_NOT_FOUND = error('not_found', 'Webhook not found');
const LACKS_WRITE = error('forbidden', "This API key lacks the 'webhooks:write' scope");

/**
 * An organisation's webhooks: where its security events go. Secrets and header values go in (or are
 * generated and shown once) and never come out again; the URL comes out only in its display form.
 */
@ApiTags(TAGS.webhooks.name)
@ApiBearerAuth()
@Controller('api/organisations/:orgId/webhooks')
export class WebhooksController {
  constructor(
    private readonly commands: ReadYourWrites,
    private readonly webhooks: WebhooksProjection,
    private readonly access: OrganisationAccess,
    private readonly admin: WebhookAdministration,
    private readonly attempts: DeliveryAttempts,
  ) {}

  @Post()
  @Idempotent()
  @RequireScope('webhooks:write')
  @ApiOperation({ operationId: 'createWebhook', summary: 'Create a webhook (at most 10 per organisation); the secret is generated and returned once when not given' })
  @ApiCreatedResponse({ type: CreatedWebhookDto })
  @ApiErrors(400, 'invalid_url', 'unsafe_url', LACKS_WRITE, 404, 'webhook_limit_reached', 'conflict')
  async create(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string, @Body() body: CreateWebhookDto): Promise<CreatedWebhookDto> {
    const organisation = this.access.resolve(principal, orgId);
    const input = await this.admin.inputFor(organisation.id, body);
    const id = randomUUID();
    const secret = body.secret ?? generateWebhookSecret();
    await this.commands.execute(new CreateWebhook(organisation.id, id, input, randomUUID(), secret));
    const view = this.admin.view(this.webhooks.webhook(organisation.id, id)!);
    return body.secret === undefined ? { ...view, secret } : view;
  }

  @Get()
  @RequireScope('read')
  @ApiOperation({ operationId: 'listWebhooks', summary: "List the organisation's webhooks, with their health" })
  @ApiOkResponse({ type: WebhookDto, isArray: true })
  @ApiErrors(403, 404)
  list(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string): WebhookDto[] {
    const organisation = this.access.resolve(principal, orgId);
    return this.webhooks.list(organisation.id).map((w) => this.admin.view(w));
  }

  @Get(':id')
  @RequireScope('read')
  @ApiOperation({ operationId: 'getWebhook', summary: 'Get a webhook: its settings, secret ids, and health (success rate, last success, consecutive failures, circuit)' })
  @ApiOkResponse({ type: WebhookDto })
  @ApiErrors(400, 403, WEBHOOK_NOT_FOUND)
  get(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string, @Param('id') id: string, @Query() query: AsOfQuery): Promise<WebhookDto> | WebhookDto {
    const webhook = this.find(principal, orgId, id);
    return query.as_of === undefined ? this.admin.view(webhook) : this.admin.viewAsOf(webhook, parseAsOf(query.as_of));
  }

  @Patch(':id')
  @RequireScope('webhooks:write')
  @ApiOperation({ operationId: 'updateWebhook', summary: 'Change a webhook; only the fields given change' })
  @ApiOkResponse({ type: WebhookDto })
  @ApiErrors(400, 'invalid_url', 'unsafe_url', LACKS_WRITE, WEBHOOK_NOT_FOUND, 'conflict')
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgId: string,
    @Param('id') id: string,
    @Body() body: UpdateWebhookDto,
  ): Promise<WebhookDto> {
    const webhook = this.find(principal, orgId, id);
    const changes = await this.admin.changesFor(webhook, body);
    await this.commands.execute(new UpdateWebhook(webhook.organisationId, webhook.id, changes));
    return this.admin.view(this.webhooks.webhook(webhook.organisationId, webhook.id)!);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('webhooks:write')
  @ApiOperation({ operationId: 'deleteWebhook', summary: 'Delete a webhook; its pending deliveries are cancelled, its delivery history stays' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(LACKS_WRITE, WEBHOOK_NOT_FOUND, 'conflict')
  async remove(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string, @Param('id') id: string): Promise<void> {
    const webhook = this.find(principal, orgId, id);
    await this.commands.execute(new DeleteWebhook(webhook.organisationId, webhook.id));
  }

  @Post(':id/rotate-secret')
  @Idempotent()
  @HttpCode(200)
  @RequireScope('webhooks:write')
  @ApiOperation({ operationId: 'rotateWebhookSecret',
    summary:
      'Rotate the signing secret. The new one signs at once; the previous ones keep signing beside it (one webhook-signature each) for the grace period',
  })
  @ApiOkResponse({ type: RotatedWebhookSecretDto })
  @ApiErrors(400, LACKS_WRITE, WEBHOOK_NOT_FOUND, 'conflict')
  async rotateSecret(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgId: string,
    @Param('id') id: string,
    @Body() body: RotateWebhookSecretDto,
  ): Promise<RotatedWebhookSecretDto> {
    const webhook = this.find(principal, orgId, id);
    const secretId = randomUUID();
    const secret = body?.secret ?? generateWebhookSecret();
    const previousExpireAt = this.admin.previousSecretsExpireAt(body?.grace_period_seconds);
    await this.commands.execute(new RotateWebhookSecret(webhook.organisationId, webhook.id, secretId, secret, previousExpireAt));
    const answer: RotatedWebhookSecretDto = {
      secret_id: secretId,
      previous_secrets_expire_at: previousExpireAt,
      secrets: secretsView(this.webhooks.webhook(webhook.organisationId, webhook.id)!),
    };
    return body?.secret === undefined ? { ...answer, secret } : answer;
  }

  @Post(':id/test')
  @Idempotent()
  @HttpCode(200)
  @RequireScope('webhooks:write')
  @ApiOperation({ operationId: 'testWebhook', summary: 'Send a signed test event now (even to a disabled webhook) and return what the receiver answered; it is recorded, not retried' })
  @ApiOkResponse({ type: WebhookTestResultDto })
  @ApiErrors(400, LACKS_WRITE, WEBHOOK_NOT_FOUND)
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
  @ApiOperation({ operationId: 'listWebhookDeliveries', summary: "The webhook's deliveries, newest first: status, attempts, next attempt, last status code" })
  @ApiTags(TAGS.deliveries.name)
  @ApiOkResponse({ type: DeliveryPageDto })
  @ApiErrors(error('invalid_request', 'cursor is not a cursor this API returned', [{ field: 'cursor', problems: ['is invalid'] }]), 403, WEBHOOK_NOT_FOUND)
  listDeliveries(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgId: string,
    @Param('id') id: string,
    @Query() query: ListDeliveriesQuery,
  ): DeliveryPageDto {
    return this.admin.deliveryPage(this.find(principal, orgId, id), query);
  }

  @Post(':id/recover')
  @Idempotent()
  @HttpCode(202)
  @RequireScope('webhooks:write')
  @ApiOperation({ operationId: 'recoverWebhookDeliveries', summary: "Redeliver the webhook's dead letters that failed in a time window (each keeps its delivery id)" })
  @ApiTags(TAGS.deliveries.name)
  @ApiAcceptedResponse({ type: RecoveredDto })
  @ApiErrors(400, LACKS_WRITE, WEBHOOK_NOT_FOUND, 'webhook_disabled', 'conflict')
  async recover(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgId: string,
    @Param('id') id: string,
    @Body() body: RecoverDeliveriesDto,
  ): Promise<RecoveredDto> {
    const ids = await this.admin.recover(this.find(principal, orgId, id), instantMs(body.since), body.until === undefined ? undefined : instantMs(body.until));
    return { delivery_ids: ids };
  }

  private find(principal: Principal, orgId: string, id: string): WebhookRecord {
    const organisation = this.access.resolve(principal, orgId);
    const webhook = isUuid(id.toLowerCase()) ? this.webhooks.webhook(organisation.id, id.toLowerCase()) : undefined;
    if (!webhook) throw notFound('Webhook not found');
    return webhook;
  }
}
