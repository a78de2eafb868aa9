import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { AppError } from '../../http/app-error';
import { parseJsonBody } from '../../http/json-body';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Also take a JSON body sent as application/x-www-form-urlencoded (curl's default for -d). */
    formEncodedJson?: boolean;
  }
}

/**
 * The seed's registration example is `curl -X POST .../api/webhooks -H "Authorization: …" -d '{…}'`, with
 * no Content-Type, so curl labels the JSON as a form. The seed's lines must work as printed, so the routes
 * marked `formEncodedJson` read such a body as the JSON it is (same depth and __proto__ limits). Every
 * other route still answers 415 to a form.
 */
@Injectable()
export class FormEncodedJson implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'buffer', bodyLimit: this.config.bodyLimit },
      (request: FastifyRequest, body: Buffer, done: (error: Error | null, value?: unknown) => void) => {
        if (!request.routeOptions.config?.formEncodedJson) {
          return done(new AppError(415, 'unsupported_media_type', 'Content-Type must be application/json'));
        }
        try {
          done(null, parseJsonBody(body));
        } catch (error) {
          done(error as Error);
        }
      },
    );
  }
}
