import { Module } from '@nestjs/common';
import { ObservabilityModule } from '../observability/observability.module';
import {
  RegisterSourceHandler,
  RemoveSourceHandler,
  RotateSourceSecretHandler,
  UpdateSourceHandler,
} from './commands/source.handlers';
import { SourceTestEvents } from './source-test-events';
import { WebhookConfigReconciler } from './config/webhook-config.reconciler';
import { SourcesController } from './http/sources.controller';
import { WebhookObserver } from './http/webhook-observer';
import { WebhookRateLimit } from './http/webhook-rate-limit';
import { WebhookReceiverController } from './http/webhook-receiver.controller';
import { ReceiptsProjection } from './projections/receipts.projection';
import { SourcesProjection } from './projections/sources.projection';
import { AlertProcessor } from './receiving/alert-processor';
import { AlertQueueReactor } from './receiving/alert-queue.reactor';
import { WebhookReceiver } from './receiving/webhook-receiver';
import { RejectedWebhooks } from './receiving/rejected-webhooks';

/** Webhook sources, and receiving their signed alerts: POST /api/webhooks/:source and everything under /api/webhooks. */
@Module({
  imports: [ObservabilityModule],
  controllers: [WebhookReceiverController, SourcesController],
  providers: [
    RegisterSourceHandler,
    UpdateSourceHandler,
    RotateSourceSecretHandler,
    RemoveSourceHandler,
    SourcesProjection,
    ReceiptsProjection,
    AlertProcessor,
    AlertQueueReactor,
    WebhookReceiver,
    RejectedWebhooks,
    WebhookObserver,
    WebhookRateLimit,
    WebhookConfigReconciler,
    SourceTestEvents,
  ],
})
export class InboundModule {}
