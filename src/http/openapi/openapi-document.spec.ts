import type { OpenAPIObject } from '@nestjs/swagger';
import { describe, expect, it } from 'vitest';
import { finishOpenApiDocument, missingOperationId } from './openapi-document';

const error = { $ref: '#/components/schemas/ErrorResponseDto' };

function documentWith(paths: Record<string, unknown>): OpenAPIObject {
  return { openapi: '3.1.0', info: { title: 't', version: '1' }, paths, components: { schemas: {} } } as unknown as OpenAPIObject;
}

const codes = (response: any) => Object.keys(response.content['application/json'].examples);

describe('finishOpenApiDocument', () => {
  it('refuses an operation without an explicit operationId, naming it', () => {
    const document = documentWith({ '/api/x': { get: { operationId: missingOperationId('XController', 'list'), responses: { 200: { description: '' } } } } });
    expect(() => finishOpenApiDocument(document, {})).toThrow(/GET \/api\/x \(XController\.list\)/);
  });

  it('adds what an operation shares with its kind: 401 for a bearer route, the parser outcomes for a body, 429/503 under /api/', () => {
    const document = documentWith({
      '/api/things': {
        post: {
          operationId: 'createThing',
          security: [{ bearer: [] }],
          requestBody: { content: { 'application/json': { schema: { type: 'object' } } } },
          responses: { 201: { description: '' } },
        },
      },
      '/health': { get: { operationId: 'getHealth', responses: { 200: { description: 'ok' } } } },
    });
    const done = finishOpenApiDocument(document, {}) as any;
    const create = done.paths['/api/things'].post;
    expect(Object.keys(create.responses).sort()).toEqual(['201', '400', '401', '413', '415', '429', '500', '503']);
    expect(codes(create.responses['400'])).toEqual(['invalid_json', 'invalid_consistency_token']);
    expect(create.responses['401'].description).toBe('`unauthorized`: the Authorization header is missing, not `Bearer tw_…`, or names an unknown or revoked key');
    expect(create.responses['201'].description).toBe('Created');
    expect(create.responses['429'].headers['Retry-After']).toBeDefined();
    expect(done.components.examples.unauthorized.value).toEqual({ error: { code: 'unauthorized', message: 'Missing Authorization header' } });

    const health = done.paths['/health'].get;
    expect(health.security).toEqual([]);
    expect(Object.keys(health.responses).sort()).toEqual(['200', '400', '500', '503']);
    expect(codes(health.responses['503'])).toEqual(['consistency_timeout']);
  });

  it('keeps the receiver’s own payload code instead of the JSON parser’s, answers errors as JSON, keeps a method’s own tag', () => {
    const document = documentWith({
      '/api/webhooks/{source}': {
        post: {
          operationId: 'receiveAlert',
          tags: ['Controller tag', 'Method tag'],
          requestBody: { content: { 'application/json': { schema: { type: 'object' } } } },
          responses: {
            202: { description: 'accepted' },
            400: { description: '', content: { 'text/plain': { schema: error, examples: { invalid_payload: { $ref: '#/components/examples/invalid_payload' } } } } },
          },
        },
      },
    });
    const receive = (finishOpenApiDocument(document, {}) as any).paths['/api/webhooks/{source}'].post;
    expect(receive.tags).toEqual(['Method tag']);
    expect(Object.keys(receive.responses['400'].content)).toEqual(['application/json']);
    expect(codes(receive.responses['400'])).toEqual(['invalid_payload', 'invalid_consistency_token']);
    expect(receive.security).toEqual([]);
    expect(receive.responses['401']).toBeUndefined();
  });
});
