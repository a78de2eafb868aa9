import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope } from '../../auth/auth.decorators';
import { OrganisationAccess } from '../../auth/organisation-access';
import type { Principal } from '../../auth/principal';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { ReadYourWrites } from '../../cqrs/read-your-writes';
import { ApiErrors, error } from '../../http/api-errors.decorator';
import { TAGS } from '../../http/openapi/tags';
import { conflict, notFound } from '../../http/app-error';
import { parseAsOf } from '../../http/as-of';
import { RequestRedelivery } from '../commands/delivery.commands';
import { DeliveriesProjection, type DeliveryView } from '../projections/deliveries.projection';
import { WebhooksProjection } from '../projections/webhooks.projection';
import { isUuid } from '../../contracts/ids';
import { Idempotent } from './idempotent.decorator';
import { attemptsView, deliveryView, waitUntilOf } from './views';
import { WebhookAdministration } from '../webhook-administration';
import { AsOfQuery, DeliveryDetailDto, DeliveryDto } from './webhooks.dto';


@ApiTags(TAGS.deliveries.name)
@ApiBearerAuth()
@Controller('api/organisations/:orgId/deliveries')
export class DeliveriesController {
  constructor(
    private readonly commands: ReadYourWrites,
    private readonly deliveries: DeliveriesProjection,
    private readonly webhooks: WebhooksProjection,
    private readonly access: OrganisationAccess,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly admin: WebhookAdministration,
  ) {}

  /** The delivery with a truthful next_attempt_at: not before its webhook's circuit or back-pressure lets it go. */
  private view(delivery: DeliveryView): DeliveryDto {
    const breaker = { threshold: this.config.outbound.breakerThreshold, cooldownMs: this.config.outbound.breakerCooldownMs };
    return deliveryView(delivery, waitUntilOf(this.deliveries.streak(delivery.webhook_id), breaker));
  }

  @Get(':deliveryId')
  @RequireScope('read')
  @ApiOperation({ operationId: 'getDelivery', summary: 'A delivery and every attempt: request digest, status, selected headers, first 4 KiB of the body, duration, error class' })
  @ApiOkResponse({ type: DeliveryDetailDto })
  @ApiErrors(400, 403, error('not_found', 'Delivery not found'))
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgId: string,
    @Param('deliveryId') deliveryId: string,
    @Query() query: AsOfQuery,
  ): Promise<DeliveryDetailDto> | DeliveryDetailDto {
    const delivery = this.find(principal, orgId, deliveryId);
    if (query.as_of !== undefined) return this.admin.deliveryAsOf(delivery.organisation_id, delivery.id, parseAsOf(query.as_of));
    return { ...this.view(delivery), attempt_log: attemptsView(this.deliveries.attempts(delivery.id)) };
  }

  @Post(':deliveryId/redeliver')
  @Idempotent()
  @HttpCode(202)
  @RequireScope('webhooks:write')
  @ApiOperation({ operationId: 'redeliverDelivery', summary: 'Deliver a finished delivery again (a dead letter, a success, a cancelled one): a new round of attempts, same delivery id' })
  @ApiAcceptedResponse({ type: DeliveryDto })
  @ApiErrors(error('forbidden', "This API key lacks the 'webhooks:write' scope"), error('not_found', 'Delivery not found'), 'delivery_in_progress', error('webhook_disabled', 'The webhook of this delivery is disabled or deleted'), 'conflict')
  async redeliver(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string, @Param('deliveryId') deliveryId: string): Promise<DeliveryDto> {
    const delivery = this.find(principal, orgId, deliveryId);
    if (!this.webhooks.webhook(delivery.organisation_id, delivery.webhook_id)?.settings.enabled) {
      throw conflict('The webhook of this delivery is disabled or deleted', 'webhook_disabled');
    }
    await this.commands.execute(new RequestRedelivery(delivery.organisation_id, delivery.id, 'manual'));
    return this.view(this.deliveries.delivery(delivery.organisation_id, delivery.id)!);
  }

  private find(principal: Principal, orgId: string, deliveryId: string): DeliveryView {
    const organisation = this.access.resolve(principal, orgId);
    const id = deliveryId.toLowerCase();
    const delivery = isUuid(id) ? this.deliveries.delivery(organisation.id, id) : undefined;
    if (!delivery) throw notFound('Delivery not found');
    return delivery;
  }
}
