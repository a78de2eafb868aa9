import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators';
import { Metrics } from './metrics';

@ApiTags('operations')
@Controller()
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  /**
   * Public, as Prometheus scrapers usually are: it shows source names and request counts, no payload, no
   * secret and no organisation. Keep it off the public internet with the proxy in front of Towline.
   */
  @Get('metrics')
  @Public()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format), webhook_received_total and webhook_errors_total among them' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ schema: { type: 'string' } })
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
