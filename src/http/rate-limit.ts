import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import type { AppConfig } from '../config/config';
import { AppError } from './app-error';

/** Rate limiter buckets kept (least recently used dropped first): far more than the keys and sources one instance serves. */
const BUCKETS = 50_000;

/** A request handler that counts the request and throws 429 rate_limited past its limit. */
export type RateLimiter = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * Registers @fastify/rate-limit without any route of its own (`global: false`): the API's limit (per key) is
 * added here, the inbound route's (per source) by src/inbound/http/source-rate-limit.ts, which knows the
 * sources. Counters live in this process's memory (an LRU of BUCKETS), so a limit holds per instance:
 * behind a balancer over N instances a client gets up to N times the limit. Answers past a limit are 429
 * `rate_limited` with `Retry-After` and the IETF draft's `RateLimit-Limit`, `RateLimit-Remaining` and
 * `RateLimit-Reset` (the library's `enableDraftSpec`); those three also go on every answer under the limit.
 * Must run before the routes are registered (app.init).
 */
export async function registerRateLimiting(fastify: FastifyInstance, config: AppConfig, onLimited: (limit: 'api') => void): Promise<void> {
  await fastify.register(rateLimit, {
    global: false,
    enableDraftSpec: true,
    cache: BUCKETS,
    timeWindow: config.rateLimit.windowMs,
    errorResponseBuilder: (_request, context) =>
      new AppError(429, 'rate_limited', `Rate limit exceeded: at most ${context.max} requests per ${windowText(config.rateLimit.windowMs)}; retry in ${context.after}`),
  });
  if (config.rateLimit.api === 0) return;
  const api = fastify.rateLimit({
    max: config.rateLimit.api,
    keyGenerator: apiClientKey,
    onExceeded: () => onLimited('api'),
  }) as unknown as RateLimiter;
  fastify.addHook('onRequest', async (request, reply) => {
    // The API only: probes, metrics and the docs stay reachable, and the inbound route has its own limit.
    if (!request.url.startsWith('/api/') || request.routeOptions.config?.webhookReceiver) return;
    await api(request, reply);
  });
}

/**
 * Per API key, whether or not it is valid (authentication comes later, and a bucket per presented token
 * costs a guesser nothing it would not pay anyway), stored as a digest rather than the secret itself;
 * per client address without one.
 */
function apiClientKey(request: FastifyRequest): string {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return match ? `key:${createHash('sha256').update(match[1]).digest('base64url')}` : `ip:${request.ip}`;
}

function windowText(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}
