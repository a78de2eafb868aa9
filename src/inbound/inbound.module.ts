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
import { WebhookReceiverController } from './http/webhook-receiver.controller';
import { ReceiptsProjection } from './projections/receipts.projection';
import { SourcesProjection } from './projections/sources.projection';
import { AlertProcessor } from './receiving/alert-processor';
import { AlertQueueWorker } from './receiving/alert-queue.worker';
import { WebhookReceiver } from './receiving/webhook-receiver';

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
    WebhookObserver,
    WebhookConfigReconciler,
  ],
})
export class InboundModule {}
