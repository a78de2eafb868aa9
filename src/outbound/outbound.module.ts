import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { PROJECT_MONITORING } from '../contracts/project-monitoring';
import { WebhookAdministration } from './webhook-administration';
import { ObservabilityModule } from '../observability/observability.module';
import {
  CancelDeliveryHandler,
  ExpireDeliveryHandler,
  RecordDeliveryAttemptHandler,
  RequestRedeliveryHandler,
  ScheduleDeliveryHandler,
} from './commands/delivery.handlers';
import { PauseMonitoringHandler, ResumeMonitoringHandler } from './commands/monitoring.handlers';
import { RecordSecurityEventHandler } from './commands/security-event.handlers';
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
import { ScheduledDeliveryQueue } from './delivery/delivery-queue';
import { DeliveryMetrics } from './delivery/delivery.metrics';
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
import { OperatorNoticesProducer } from './producers/operator-notices.producer';
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
  imports: [ObservabilityModule],
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
    ExpireDeliveryHandler,
    SecurityEventsProjection,
    WebhooksProjection,
    DeliveriesProjection,
    MonitoringProjection,
    MonitoringEventsProducer,
    IncidentEventsProducer,
    DriftProducer,
    OperatorNoticesProducer,
    MonitoringService,
    WebhookAdministration,
    DeliveryMetrics,
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
        new ScheduledDeliveryQueue(deliveries, claims, {
          limits: {
            concurrency: config.outbound.concurrency,
            organisationConcurrency: config.outbound.organisationConcurrency,
            endpointConcurrency: config.outbound.endpointConcurrency,
          },
          deadlineMs: config.outbound.deadlineMs,
        }),
    },
  ],
  exports: [PROJECT_MONITORING],
})
export class OutboundModule {}
