import { Module } from '@nestjs/common';
import { ObservabilityModule } from '../observability/observability.module';
import {
  RegisterSourceHandler,
  RemoveSourceHandler,
  RotateSourceSecretHandler,
  UpdateSourceHandler,
} from './commands/source.handlers';
import { SourceTestEvents } from './source-test-events';
import { SourcesConfigReconciler } from './config/sources-config.reconciler';
import { SourcesController } from './http/sources.controller';
import { InboundObserver } from './http/inbound-observer';
import { SourceRateLimit } from './http/source-rate-limit';
import { AlertReceiverController } from './http/alert-receiver.controller';
import { ReceiptsProjection } from './projections/receipts.projection';
import { SourcesProjection } from './projections/sources.projection';
import { AlertProcessor } from './receiving/alert-processor';
import { AlertQueueReactor } from './receiving/alert-queue.reactor';
import { AlertReceiver } from './receiving/alert-receiver';
import { RejectedRequests } from './receiving/rejected-requests';

/** Webhook sources, and receiving their signed alerts: POST /api/webhooks/:source and everything under /api/webhooks. */
@Module({
  imports: [ObservabilityModule],
  controllers: [AlertReceiverController, SourcesController],
  providers: [
    RegisterSourceHandler,
    UpdateSourceHandler,
    RotateSourceSecretHandler,
    RemoveSourceHandler,
    SourcesProjection,
    ReceiptsProjection,
    AlertProcessor,
    AlertQueueReactor,
    AlertReceiver,
    RejectedRequests,
    InboundObserver,
    SourceRateLimit,
    SourcesConfigReconciler,
    SourceTestEvents,
  ],
})
export class InboundModule {}
