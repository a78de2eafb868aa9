import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Public } from '../auth/auth.decorators';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ApiErrors } from '../http/api-errors.decorator';
import { TAGS } from '../http/openapi/tags';
import { unauthorized } from '../http/app-error';
import { Metrics } from './metrics';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

@ApiTags(TAGS.health.name)
@Controller()
export class MetricsController {
  /** SHA-256 of TW_METRICS_TOKEN: equal-length digests compare in constant time whatever was sent. */
  private readonly token: Buffer | null;

  constructor(
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.token = config.metricsToken === undefined ? null : digest(config.metricsToken);
  }

  /**
   * It names every organisation's sources and their request counts (no payload, no secret). Without
   * TW_METRICS_TOKEN it is public, as scrapers usually expect, so keep it behind the proxy; with it, only a
   * scraper sending the token as a bearer token (Prometheus' `authorization` / `bearer_token`) reads it.
   * Not an API key: a scraper's credential must not open the API.
   */
  @Get('metrics')
  @Public()
  @ApiOperation({ operationId: 'getMetrics',
    summary: 'Prometheus metrics (text exposition format), webhook_received_total and webhook_errors_total among them',
    description: 'Requires `Authorization: Bearer <TW_METRICS_TOKEN>` when TW_METRICS_TOKEN is set; public otherwise.',
  })
  // No key, or the metrics token when the instance sets one (the scheme is added in openapi-document.ts).
  @ApiSecurity({})
  @ApiSecurity('metrics_token')
  // The text format on 200 only: a refusal is the JSON error envelope (not @ApiProduces, which gave every status text/plain).
  @ApiOkResponse({ description: 'The Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } })
  @ApiErrors('metrics_unauthorized')
  metricsText(@Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    if (this.token && !this.bearsToken(authorization)) {
      void reply.header('www-authenticate', 'Bearer realm="metrics"');
      throw unauthorized('GET /metrics requires the TW_METRICS_TOKEN bearer token');
    }
    // Set here, not with @Header: a refusal above must still go out as the JSON error it is.
    void reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8');
    return this.metrics.registry.metrics();
  }

  private bearsToken(authorization: string | undefined): boolean {
    const match = /^Bearer (\S+)$/i.exec(authorization ?? '');
    return match !== null && timingSafeEqual(digest(match[1]), this.token!);
  }
}
