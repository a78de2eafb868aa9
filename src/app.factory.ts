import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import type { AppConfig } from './config/config';
import { lockDataDirectory, secureDataDirectory } from './config/data-directory';
import { SecretBox, resolveMasterKey } from './config/secret-box';
import { ReadSideRunner } from './cqrs/read-side.runner';
import { AppError } from './http/app-error';
import { clientErrorHandler } from './http/client-errors';
import { parseJsonBody } from './http/json-body';
import { toJsonSchema2020 } from './http/openapi/json-schema-2020';
import { finishOpenApiDocument, missingOperationId } from './http/openapi/openapi-document';
import { registerRateLimiting } from './http/rate-limit';
import { NestPinoLogger, createLogger } from './observability/logger';
import { Metrics } from './observability/metrics';
import { InstanceService } from './organisations/instance.service';
import { outboundWebhooks } from './outbound/http/openapi-webhooks';

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact bytes of a JSON body, for routes that verify signatures over them. */
    rawBody?: Buffer;
  }
  interface FastifyContextConfig {
    /** Leave the JSON body unparsed (request.body undefined): the route parses it after authenticating. */
    rawJsonBody?: boolean;
    /** Also take a JSON body sent as application/x-www-form-urlencoded (curl's default for -d). */
    formEncodedJson?: boolean;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export interface CreateAppOptions {
  logger?: Logger;
}

/**
 * Builds the whole application (used by main.ts, the OpenAPI generator and the tests), initialised, with the
 * read side running and the instance bootstrapped, but not yet listening.
 */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const logger = options.logger ?? createLogger(config);
  if (config.unknownVariables.length > 0) {
    logger.warn(
      { variables: config.unknownVariables },
      `Ignoring environment variables this version does not know (a typo?): ${config.unknownVariables.join(', ')}`,
    );
  }
  secureDataDirectory(config.dataDir);
  // Before anything is written: a second process on the same directory stops here.
  const lock = lockDataDirectory(config.dataDir);
  try {
    return await startApp(config, logger, lock);
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function startApp(config: AppConfig, logger: Logger, lock: { release(): void }): Promise<NestFastifyApplication> {
  const masterKey = resolveMasterKey(config.masterKey, config.dataDir);
  if (masterKey.generated) {
    logger.warn({ file: masterKey.file }, 'TW_MASTER_KEY is not set: generated a master key for stored secrets in the data directory (mode 0600). Back it up with the data.');
  }

  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    bodyLimit: config.bodyLimit,
    // An incoming X-Request-Id is kept when it is sane, so a caller can correlate; otherwise a uuid.
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    forceCloseConnections: 'idle',
    // Fastify's default is no timeout at all: a client trickling a byte every few seconds held its
    // connection (and its share of memory) for ever. Both are answered 408 request_timeout (client-errors.ts).
    requestTimeout: config.timeouts.requestMs,
    http: {
      headersTimeout: Math.min(config.timeouts.headersMs, config.timeouts.requestMs),
      requestTimeout: config.timeouts.requestMs,
      // Node checks both only this often (30 s by default), which would stretch a 10 s timeout to 40 s.
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.min(config.timeouts.headersMs, config.timeouts.requestMs) / 4)),
    },
    clientErrorHandler,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, new SecretBox(masterKey.key), lock), adapter, {
    logger: new NestPinoLogger(logger),
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  configureFastify(fastify, config);
  const metrics = app.get(Metrics);
  await registerRateLimiting(fastify, config, (limit) => metrics.rateLimited.inc({ limit }));

  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'openapi.json',
    yamlDocumentUrl: 'openapi.yaml',
  });

  await app.init();
  // The stores created their files (and WALs) during init: make those private too on a first start.
  secureDataDirectory(config.dataDir);
  app.get(ReadSideRunner).start();
  await app.get(InstanceService).initialise();
  return app;
}

/**
 * The OpenAPI 3.1 document, from the controllers and DTOs (docs/api.md says how it is made): scanned by
 * @nestjs/swagger (3.0 dialect), turned into 3.1 / JSON Schema 2020-12, then finished with what every operation
 * shares and the outbound `webhooks:` (built by the outbound capability from its own catalogue).
 */
export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Towline')
    .setDescription(
      'Open security webhook hub: signed inbound alerts, incidents and auto-triage, signed outbound security events, ' +
        'on an immutable event stream. Every error is `{"error":{"code","message","details"?}}` with a stable code; ' +
        'each response lists the codes its status can carry (docs/api.md). The outbound payloads Towline sends, and how ' +
        'to verify their signatures, are under `webhooks`.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'tw_…', description: 'Towline API key (`tw_` and 43 characters)' })
    .build();
  // Every operation names its operationId in its decorator; one that does not fails the build (finishOpenApiDocument).
  const scanned = SwaggerModule.createDocument(app, config, { operationIdFactory: missingOperationId, autoTagControllers: false });
  const outbound = outboundWebhooks();
  return finishOpenApiDocument(toJsonSchema2020(scanned), { webhooks: outbound.webhooks, schemas: outbound.schemas });
}

function configureFastify(fastify: FastifyInstance, config: AppConfig): void {
  // JSON only: any other media type is answered 415 by Fastify itself.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: config.bodyLimit },
    (request: FastifyRequest, body: Buffer, done: (error: Error | null, value?: unknown) => void) => {
      request.rawBody = body;
      if (request.routeOptions.config?.rawJsonBody) return done(null, undefined);
      if (body.length === 0) return done(null, undefined);
      parseInto(body, done);
    },
  );
  // The seed's registration example is `curl … -d '{…}'` with no Content-Type, so curl labels the JSON a
  // form. The seed's lines must work as printed: routes marked `formEncodedJson` read such a body as the
  // JSON it is (same limits); every other route still answers 415.
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer', bodyLimit: config.bodyLimit },
    (request: FastifyRequest, body: Buffer, done: (error: Error | null, value?: unknown) => void) => {
      if (!request.routeOptions.config?.formEncodedJson) {
        return done(new AppError(415, 'unsupported_media_type', 'Content-Type must be application/json'));
      }
      parseInto(body, done);
    },
  );
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
}

function parseInto(body: Buffer, done: (error: Error | null, value?: unknown) => void): void {
  try {
    done(null, parseJsonBody(body));
  } catch (error) {
    done(error as Error);
  }
}
