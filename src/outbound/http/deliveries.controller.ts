import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope } from '../../auth/auth.decorators';
import { OrganisationAccess } from '../../auth/organisation-access';
import type { Principal } from '../../auth/principal';
import type { Decided } from '../../cqrs/aggregate-store';
import { ReadSideRunner } from '../../cqrs/read-side.runner';
import { ApiErrors } from '../../http/api-errors.decorator';
import { conflict, notFound } from '../../http/app-error';
import { RequestRedelivery } from '../commands/delivery.commands';
import type { DeliveryState } from '../delivery.aggregate';
import { DELIVERIES_PROJECTION, DeliveriesProjection, type DeliveryView } from '../projections/deliveries.projection';
import { WebhooksProjection } from '../projections/webhooks.projection';
import { isUuid } from '../../contracts/ids';
import { ApiOutcome } from './api-outcome';
import { attemptsView, deliveryView } from './views';
import { DeliveryDetailDto, DeliveryDto } from './webhooks.dto';


@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('api/organisations/:orgId/deliveries')
export class DeliveriesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly deliveries: DeliveriesProjection,
    private readonly webhooks: WebhooksProjection,
    private readonly access: OrganisationAccess,
    private readonly readSide: ReadSideRunner,
  ) {}

  @Get(':deliveryId')
  @RequireScope('read')
  @ApiOperation({ summary: 'A delivery and every attempt: request digest, status, selected headers, first 4 KiB of the body, duration, error class' })
  @ApiOkResponse({ type: DeliveryDetailDto })
  @ApiErrors(401, 403, 404)
  get(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string, @Param('deliveryId') deliveryId: string): DeliveryDetailDto {
    const delivery = this.find(principal, orgId, deliveryId);
    return { ...deliveryView(delivery), attempt_log: attemptsView(this.deliveries.attempts(delivery.id)) };
  }

  @Post(':deliveryId/redeliver')
  @HttpCode(202)
  @RequireScope('webhooks:write')
  @ApiOperation({ summary: 'Deliver a finished delivery again (a dead letter, a success, a cancelled one): a new round of attempts, same delivery id' })
  @ApiAcceptedResponse({ type: DeliveryDto })
  @ApiOutcome(409, 'delivery_in_progress: it is still pending or retrying; webhook_disabled: its webhook is disabled or deleted')
  @ApiErrors(401, 403, 404)
  async redeliver(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string, @Param('deliveryId') deliveryId: string): Promise<DeliveryDto> {
    const delivery = this.find(principal, orgId, deliveryId);
    if (!this.webhooks.webhook(delivery.organisation_id, delivery.webhook_id)?.settings.enabled) {
      throw conflict('The webhook of this delivery is disabled or deleted', 'webhook_disabled');
    }
    const { appended } = await this.commands.execute<RequestRedelivery, Decided<DeliveryState>>(
      new RequestRedelivery(delivery.organisation_id, delivery.id, 'manual'),
    );
    if (appended) await this.readSide.catchUp([DELIVERIES_PROJECTION], appended.position);
    return deliveryView(this.deliveries.delivery(delivery.organisation_id, delivery.id)!);
  }

  private find(principal: Principal, orgId: string, deliveryId: string): DeliveryView {
    const organisation = this.access.resolve(principal, orgId);
    const id = deliveryId.toLowerCase();
    const delivery = isUuid(id) ? this.deliveries.delivery(organisation.id, id) : undefined;
    if (!delivery) throw notFound('Delivery not found');
    return delivery;
  }
}
