import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import type { RateLimiter } from '../../http/rate-limit';
import { Metrics } from '../../observability/metrics';
import { SourcesProjection } from '../projections/sources.projection';

/**
 * The inbound route's rate limit (src/http/rate-limit.ts registers the library): per registered source, at
 * its `rate_limit` setting or TW_WEBHOOK_RATE_LIMIT, per client address for names that are not registered
 * (so guessing names is limited too, without a bucket per guess). Checked on request, before the body is
 * read: a flood costs no parsing, no signature check and no write. A 429 is counted in /metrics twice: as
 * `webhook_errors_total{code="rate_limited"}` per source (InboundObserver) and in `rate_limited_total`.
 */
@Injectable()
export class SourceRateLimit implements OnModuleInit {
  /** Each request's limit, looked up once (the library asks for it twice). */
  private readonly limits = new WeakMap<FastifyRequest, { key: string; max: number }>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly sources: SourcesProjection,
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const limiter = fastify.rateLimit({
      keyGenerator: (request) => this.limitOf(request).key,
      max: async (request) => this.limitOf(request).max,
      // 0 is "no limit" (the library would read it as "nothing allowed").
      allowList: (request) => this.limitOf(request).max === 0,
      onExceeded: () => this.metrics.rateLimited.inc({ limit: 'webhook' }),
    }) as unknown as RateLimiter;
    fastify.addHook('onRequest', async (request, reply) => {
      if (request.routeOptions.config?.webhookReceiver) await limiter(request, reply);
    });
  }

  private limitOf(request: FastifyRequest): { key: string; max: number } {
    let limit = this.limits.get(request);
    if (!limit) {
      const name = String((request.params as { source?: unknown }).source ?? '');
      const source = this.sources.byName(name);
      limit = source
        ? { key: `source:${source.stream}`, max: source.settings.rateLimit ?? this.config.rateLimit.webhook }
        : { key: `unknown-source:${request.ip}`, max: this.config.rateLimit.webhook };
      this.limits.set(request, limit);
    }
    return limit;
  }
}
