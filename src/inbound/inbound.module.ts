import { Module } from '@nestjs/common';
import { IncidentsModule } from '../incidents/incidents.module';
import { ObservabilityModule } from '../observability/observability.module';
import { OrganisationsModule } from '../organisations/organisations.module';
import {
  RegisterSourceHandler,
  RemoveSourceHandler,
  RotateSourceSecretHandler,
  UpdateSourceHandler,
} from './commands/source.handlers';
import { WebhookConfigReconciler } from './config/webhook-config.reconciler';
import { SourcesController } from './http/sources.controller';
import { WebhookObserver } from './http/webhook-observer';
import { WebhookRateLimit } from './http/webhook-rate-limit';
import { WebhookReceiverController } from './http/webhook-receiver.controller';
import { ReceiptsProjection } from './projections/receipts.projection';
import { SourcesProjection } from './projections/sources.projection';
import { AlertProcessor } from './receiving/alert-processor';
import { AlertQueueWorker } from './receiving/alert-queue.worker';
import { WebhookReceiver } from './receiving/webhook-receiver';
import { RejectedWebhooks } from './receiving/rejected-webhooks';

/** Webhook sources, and receiving their signed alerts: POST /api/webhooks/:source and everything under /api/webhooks. */
@Module({
  imports: [OrganisationsModule, IncidentsModule, ObservabilityModule],
  controllers: [WebhookReceiverController, SourcesController],
  providers: [
    RegisterSourceHandler,
    UpdateSourceHandler,
    RotateSourceSecretHandler,
    RemoveSourceHandler,
    SourcesProjection,
    ReceiptsProjection,
    AlertProcessor,
    AlertQueueWorker,
    WebhookReceiver,
    RejectedWebhooks,
    WebhookObserver,
    WebhookRateLimit,
    WebhookConfigReconciler,
  ],
})
export class InboundModule {}
