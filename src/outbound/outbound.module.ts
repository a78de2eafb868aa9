import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { PROJECT_MONITORING } from '../contracts/project-monitoring';
import {
  CancelDeliveryHandler,
  RecordDeliveryAttemptHandler,
  RequestRedeliveryHandler,
  ScheduleDeliveryHandler,
} from './commands/delivery.handlers';
import { PauseMonitoringHandler, ResumeMonitoringHandler } from './commands/monitoring.handlers';
import { RecordSecurityEventHandler } from './commands/security-event.handler';
import {
  CreateWebhookHandler,
  DeleteWebhookHandler,
  DisableGoneWebhookHandler,
  RotateWebhookSecretHandler,
  UpdateWebhookHandler,
} from './commands/webhook.handlers';
import { AddressPolicy } from './delivery/address-policy';
import { DeliveryAttempts } from './delivery/delivery-attempts';
import { DeliveryClaims } from './delivery/delivery-claims';
import { DeliveryPlanner } from './delivery/delivery-planner';
import { DELIVERY_QUEUE, type DeliveryQueue } from './delivery/delivery-queue.port';
import { DeliveryWorkerHost } from './delivery/delivery.worker';
import { EmbeddedDeliveryQueue } from './delivery/embedded.delivery-queue';
import { EventStoreDbDeliveryQueue } from './delivery/eventstoredb.delivery-queue';
import { WebhookHttpClient } from './delivery/webhook-http.client';
import { DeliveriesController } from './http/deliveries.controller';
import { EventTypesController } from './http/event-types.controller';
import { MonitoringController } from './http/monitoring.controller';
import { SecurityEventsController } from './http/security-events.controller';
import { WebhooksController } from './http/webhooks.controller';
import { MonitoringService } from './monitoring.service';
import { DriftProducer } from './producers/drift.producer';
import { IncidentEventsProducer } from './producers/incidents.producer';
import { MonitoringEventsProducer } from './producers/monitoring.producer';
import { DeliveriesProjection } from './projections/deliveries.projection';
import { MonitoringProjection } from './projections/monitoring.projection';
import { SecurityEventsProjection } from './projections/security-events.projection';
import { WebhooksProjection } from './projections/webhooks.projection';

/**
 * Outbound security events: the catalog, the organisations' security-event logs and their producers, the
 * webhooks, and their delivery — signed, SSRF-guarded, retried from stored due times, one delivery per
 * (event, webhook). README.md (beside this file) describes the decisions.
 */
@Global() // only to provide the project-monitoring port (src/contracts/project-monitoring.ts) to triage
@Module({
  controllers: [EventTypesController, SecurityEventsController, MonitoringController, WebhooksController, DeliveriesController],
  providers: [
    RecordSecurityEventHandler,
    PauseMonitoringHandler,
    ResumeMonitoringHandler,
    CreateWebhookHandler,
    UpdateWebhookHandler,
    RotateWebhookSecretHandler,
    DeleteWebhookHandler,
    DisableGoneWebhookHandler,
    ScheduleDeliveryHandler,
    RecordDeliveryAttemptHandler,
    RequestRedeliveryHandler,
    CancelDeliveryHandler,
    SecurityEventsProjection,
    WebhooksProjection,
    DeliveriesProjection,
    MonitoringProjection,
    MonitoringEventsProducer,
    IncidentEventsProducer,
    DriftProducer,
    MonitoringService,
    { provide: PROJECT_MONITORING, useExisting: MonitoringService },
    { provide: PROJECT_MONITORING, useExisting: MonitoringService },
    DeliveryPlanner,
    DeliveryAttempts,
    DeliveryClaims,
    DeliveryWorkerHost,
    {
      provide: AddressPolicy,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new AddressPolicy(config.outbound.allowCidrs),
    },
    {
      provide: WebhookHttpClient,
      inject: [AddressPolicy, APP_CONFIG],
      useFactory: (policy: AddressPolicy, config: AppConfig) => new WebhookHttpClient(policy, Math.min(config.outbound.timeoutMs, 10_000)),
    },
    {
      provide: DELIVERY_QUEUE,
      inject: [APP_CONFIG, DeliveriesProjection, DeliveryClaims],
      useFactory: (config: AppConfig, deliveries: DeliveriesProjection, claims: DeliveryClaims): DeliveryQueue =>
        config.eventStore.kind === 'eventstoredb'
          ? EventStoreDbDeliveryQueue.fromConnectionString(config.eventStore.connectionString, {
              holdMs: 5_000,
              attemptTimeoutMs: config.outbound.timeoutMs,
              bufferSize: Math.max(32, config.outbound.concurrency * 4),
              parkedReplayMs: 60_000,
            })
          : new EmbeddedDeliveryQueue(deliveries, claims),
    },
  ],
  exports: [PROJECT_MONITORING],
})
export class OutboundModule {}
