import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Metrics } from '../../observability/metrics';
import type { WebhookAnswer } from '../events/alert.events';
import { SourcesProjection } from '../projections/sources.projection';

declare module 'fastify' {
  interface FastifyRequest {
    /** What the receiving route learnt about the request, for its metrics and log record. */
    webhookNote?: WebhookNote;
  }
  interface FastifyContextConfig {
    /** Marks the receiving route, whose every answer is counted and logged by InboundObserver. */
    webhookReceiver?: boolean;
  }
}

export interface WebhookNote {
  answer?: WebhookAnswer;
  test?: boolean;
  replay?: boolean;
  code?: string;
}

export function noteWebhook(request: FastifyRequest, note: WebhookNote): void {
  request.webhookNote = note;
}

/** Refusals that Fastify (or the rate limit) answers before the route runs. */
const FRAMEWORK_CODES: Record<number, string> = { 413: 'payload_too_large', 415: 'unsupported_media_type', 429: 'rate_limited' };

/**
 * Counts and logs every answer of POST /api/webhooks/:source — the refusals Fastify makes before the route
 * (body too large, not JSON) included, which is why this is an onResponse hook and not an interceptor.
 * Metric labels name registered sources only (anything else is `unknown`), so a scanner trying random
 * names cannot blow up the series count. The log record names what was asked for, but never a secret, a
 * signature or the body.
 */
@Injectable()
export class InboundObserver implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: Metrics,
    private readonly sources: SourcesProjection,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onResponse', async (request, reply) => {
      if (request.routeOptions.config?.webhookReceiver) this.observe(request, reply);
    });
  }

  private observe(request: FastifyRequest, reply: FastifyReply): void {
    const name = String((request.params as { source?: unknown }).source ?? '');
    const source = this.sources.byName(name) ? name : 'unknown';
    const status = reply.statusCode;
    const note = request.webhookNote ?? {};
    const code = note.code ?? (status >= 400 ? (FRAMEWORK_CODES[status] ?? `http_${status}`) : undefined);

    this.metrics.webhookReceived.inc({ source, status: String(status) });
    this.metrics.webhookDuration.observe({ source, status: String(status) }, reply.elapsedTime / 1000);
    if (code) this.metrics.webhookErrors.inc({ source, code });

    const answer = note.answer;
    const record = {
      component: 'webhook',
      request_id: request.id,
      source: name.slice(0, 100),
      status,
      code,
      outcome: answer?.status,
      incident_id: answer?.status === 'accepted' ? answer.incident_id : undefined,
      incident_number: answer?.status === 'accepted' ? answer.incident_number : undefined,
      queue_id: answer?.status === 'queued' ? answer.queue_id : undefined,
      test: note.test || undefined,
      replay: note.replay || undefined,
      duration_ms: Math.round(reply.elapsedTime),
    };
    if (status >= 500) request.log.error(record, 'webhook failed');
    else if (status >= 400) request.log.warn(record, `webhook refused: ${code}`);
    else request.log.info(record, `webhook ${answer?.status ?? 'answered'}`);
  }
}
