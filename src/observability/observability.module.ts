import { Module } from '@nestjs/common';
import { LogsController } from './logs.controller';
import { Metrics } from './metrics';
import { MetricsController } from './metrics.controller';

@Module({
  controllers: [MetricsController, LogsController],
  providers: [Metrics],
  exports: [Metrics],
})
export class ObservabilityModule {}
