import { Module } from '@nestjs/common';
import { Health } from './health';
import { HealthController } from './health.controller';
import { LogsController } from './logs.controller';
import { Metrics } from './metrics';
import { MetricsController } from './metrics.controller';
import { ReadSideController } from './read-side.controller';
import { ReadSideMetrics } from './read-side.metrics';

@Module({
  controllers: [HealthController, MetricsController, LogsController, ReadSideController],
  providers: [Metrics, Health, ReadSideMetrics],
  exports: [Metrics],
})
export class ObservabilityModule {}
