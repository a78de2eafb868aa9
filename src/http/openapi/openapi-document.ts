import type { OpenAPIObject } from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';
import { CONSISTENCY_HEADER } from '../../cqrs/read-your-writes';
import { ERROR_CODES, wireCode, type ErrorCode, type ErrorCodeEntry } from './error-catalogue';
import { TAGS } from './tags';

/**
 * What @nestjs/swagger cannot say from the decorators, added once the document is scanned and in the 3.1
 * dialect (json-schema-2020.ts), so every operation gets it the same way (docs/api.md):
 *
 * - the outcomes every operation of a kind shares: 401 on a bearer route, the body parser's 400/413/415 where
 *   there is a body, 429 under /api/, 500 everywhere, 503 (store, consistency wait) under /api/, the
 *   Towline-Consistency header every route accepts (RequestContextInterceptor);
 * - each error response's description, written from its codes and the catalogue (error-catalogue.ts);
 * - `security: []` on the public operations (the receiver authenticates by signature, the probes by nothing);
 * - servers, licence, tags with their descriptions, and the outbound `webhooks:` the caller built.
 *
 * It also refuses a document with an operation lacking an explicit operationId (see MISSING_OPERATION_ID).
 */
export function finishOpenApiDocument(document: OpenAPIObject, extra: { webhooks?: Record<string, unknown>; schemas?: Record<string, unknown> }): OpenAPIObject {
  const out = document as unknown as Json;
  out.info = { ...(out.info as Json), license: { name: 'Apache-2.0', identifier: 'Apache-2.0' } };
  // Relative: the server that serves the document (Swagger UI's "Try it out" then calls the same origin); a
  // generated client is given its base URL (http://localhost:8080 for a local `npm start`).
  out.servers = [{ url: '/', description: 'The Towline instance that serves this document (/openapi.json, Swagger UI at /docs)' }];
  out.tags = Object.values(TAGS).map((tag) => ({ ...tag }));
  const components = (out.components ??= {}) as Json;
  const schemes = (components.securitySchemes ??= {}) as Json;
  schemes.metrics_token = {
    type: 'http',
    scheme: 'bearer',
    description: 'TW_METRICS_TOKEN, only when the instance sets one (a scraper credential, not an API key)',
  };
  const parameters = (components.parameters ??= {}) as Json;
  parameters.Consistency = {
    name: CONSISTENCY_HEADER,
    in: 'header',
    required: false,
    description:
      'Read your writes: the Towline-Consistency value a write answered with. The request waits (TW_CONSISTENCY_WAIT) until this ' +
      "instance's read models have reached it; 400 when it is not such a token, 503 consistency_timeout when they do not reach it in time " +
      '(e.g. `4812/4812`).',
    // No `example`: Swagger UI pre-fills "Try it out" with a parameter's example, so every call from /docs
    // would wait for a position the instance may never reach and answer 503 after TW_CONSISTENCY_WAIT.
    schema: { type: 'string', pattern: '^\\d+/\\d+$' },
  };
  if (extra.schemas) components.schemas = { ...(components.schemas as Json), ...extra.schemas };

  // The catalogue's examples, shared by every response that shows one (`$ref`), so the document states each once.
  components.examples = {
    ...(components.examples as Json),
    ...Object.fromEntries(Object.entries(ERROR_CODES).map(([code, entry]) => [code, catalogueExample(code as ErrorCode, entry)])),
  };

  const missing: string[] = [];
  for (const [path, item] of Object.entries(out.paths as Record<string, Json>)) {
    for (const [method, operation] of Object.entries(item as Record<string, Json>)) {
      const id = String(operation.operationId);
      if (id.startsWith(MISSING_OPERATION_ID)) missing.push(`${method.toUpperCase()} ${path} (${id.slice(MISSING_OPERATION_ID.length)})`);
      finishOperation(path, operation);
      // A method's own tag (the API keys of the organisations controller) replaces its controller's.
      const tags = operation.tags as string[] | undefined;
      if (tags && tags.length > 1) operation.tags = tags.slice(-1);
      optionalWhenEmptyAllowed(operation, (components.schemas ?? {}) as Json);
    }
  }
  if (missing.length > 0) {
    throw new Error(`Operations without an operationId (add @ApiOperation({ operationId: 'verbNoun', … })): ${missing.join(', ')}`);
  }
  if (extra.webhooks) {
    out.webhooks = extra.webhooks;
    for (const item of Object.values(extra.webhooks) as Json[]) {
      for (const operation of Object.values(item) as Json[]) describeErrors(operation);
    }
  }
  return document;
}

/** The operationIdFactory's answer: marks an operation whose decorator forgot its operationId. */
export const MISSING_OPERATION_ID = 'missing-operation-id:';
export const missingOperationId = (controllerKey: string, methodKey: string) => `${MISSING_OPERATION_ID}${controllerKey}.${methodKey}`;

type Json = Record<string, unknown>;

function finishOperation(path: string, operation: Json): void {
  const security = operation.security as Json[] | undefined;
  const bearer = security?.some((requirement) => 'bearer' in requirement) ?? false;
  // Public: no API key. An explicit requirement list (metrics' optional token) stays as declared.
  if (!security) operation.security = [];
  const api = path.startsWith('/api/');
  // An error is always JSON (the error filter), whatever the operation produces when it succeeds (metrics' text, NDJSON).
  for (const [status, response] of Object.entries(operation.responses as Record<string, Json>)) {
    const media = Object.values((response.content as Record<string, Json> | undefined) ?? {}).find((m) => isErrorSchema(m.schema));
    if (Number(status) >= 400 && media) response.content = { 'application/json': media };
    // A success without a description of its own says its status (a client's docs show it next to the schema).
    if (Number(status) < 400 && !response.description) response.description = STATUS_CODES[Number(status)] ?? status;
  }
  const body = operation.requestBody !== undefined;
  const outcomes: ErrorCode[] = [];
  if (bearer) outcomes.push('unauthorized');
  // Query parameters are validated (types, ranges, unknown ones refused).
  const query = ((operation.parameters as Json[] | undefined) ?? []).some((parameter) => parameter.in === 'query');
  if (query && !hasCode(operation, '400', 'invalid_request')) outcomes.push('invalid_request');
  if (body) {
    // The receiver's body is not parsed by the JSON parser (it is checked after the signature): invalid_payload says it there.
    if (!hasCode(operation, '400', 'invalid_payload')) outcomes.push('invalid_json');
    outcomes.push('payload_too_large', 'unsupported_media_type', 'event_too_large');
  }
  // The consistency header is read on every route (a global interceptor), the probes' too.
  outcomes.push('invalid_consistency_token', 'consistency_timeout');
  if (api) outcomes.push('rate_limited', 'store_unavailable');
  outcomes.push('internal_error');
  for (const code of outcomes) addOutcome(operation, code);
  addRetryHeaders(operation);
  ((operation.parameters ??= []) as Json[]).push({ $ref: '#/components/parameters/Consistency' });
  describeErrors(operation);
}

/**
 * @nestjs/swagger marks every `@Body()` required. The validation pipe reads a missing body as `{}`, so a body
 * whose schema requires no field may be left out (a PATCH, a rotate, a reopen): saying it is required made
 * generated clients demand one.
 */
function optionalWhenEmptyAllowed(operation: Json, schemas: Json): void {
  const body = operation.requestBody as Json | undefined;
  const media = (body?.content as Json | undefined)?.['application/json'] as Json | undefined;
  const ref = (media?.schema as Json | undefined)?.$ref;
  if (!body || typeof ref !== 'string' || !ref.startsWith('#/components/schemas/')) return;
  const schema = schemas[ref.slice('#/components/schemas/'.length)] as Json | undefined;
  const required = schema?.required as unknown[] | undefined;
  if (schema?.type === 'object' && (!required || required.length === 0)) body.required = false;
}

const integerHeader = (description: string) => ({ description, schema: { type: 'integer', minimum: 0 } });

/** When to retry: 429 (@fastify/rate-limit with the IETF draft's headers) and an error 503 say it. */
function addRetryHeaders(operation: Json): void {
  const responses = operation.responses as Record<string, Json>;
  const retryAfter = integerHeader('Seconds to wait before retrying');
  if (responses['429'] && !responses['429'].headers) {
    responses['429'].headers = {
      'Retry-After': retryAfter,
      'RateLimit-Limit': integerHeader('Requests allowed per window'),
      'RateLimit-Remaining': integerHeader('Requests left in this window'),
      'RateLimit-Reset': integerHeader('Seconds until the window resets'),
    };
  }
  const unavailable = responses['503'];
  const media = (unavailable?.content as Json | undefined)?.['application/json'] as Json | undefined;
  if (unavailable && !unavailable.headers && media && isErrorSchema(media.schema)) unavailable.headers = { 'Retry-After': retryAfter };
}

function hasCode(operation: Json, status: string, code: string): boolean {
  return exampleCodes(((operation.responses as Json)[status] as Json | undefined) ?? {}).includes(code);
}

/** Adds the catalogue's example of `code` to the operation's response for its status (creating it), unless there. */
function addOutcome(operation: Json, code: ErrorCode): void {
  const entry: ErrorCodeEntry = ERROR_CODES[code];
  const responses = operation.responses as Json;
  const status = String(entry.status);
  const response = (responses[status] ??= { description: '', content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponseDto' } } } }) as Json;
  const media = ((response.content as Json | undefined)?.['application/json'] as Json | undefined) ?? undefined;
  // A response of another shape (health's 503 is its HealthDto) keeps it: the code is named in the description only.
  if (!media || !isErrorSchema(media.schema)) return;
  const examples = (media.examples ??= {}) as Json;
  if (code in examples) return;
  examples[code] = { $ref: `#/components/examples/${code}` };
}

function catalogueExample(code: ErrorCode, entry: ErrorCodeEntry): Json {
  return {
    summary: `${wireCode(code)}: ${entry.meaning}`,
    value: { error: { code: wireCode(code), message: entry.message, ...(entry.details === undefined ? {} : { details: entry.details }) } },
  };
}

function isErrorSchema(schema: unknown): boolean {
  return (schema as Json | undefined)?.$ref === '#/components/schemas/ErrorResponseDto';
}

/** The code an example shows: in its value, or (a shared one) that of the catalogue entry it refers to. */
function errorCodeOf(example: unknown): string | undefined {
  const ref = (example as Json).$ref;
  if (typeof ref === 'string') return wireCode(ref.slice(ref.lastIndexOf('/') + 1) as ErrorCode);
  return ((((example as Json).value as Json | undefined)?.error as Json | undefined)?.code as string | undefined) ?? undefined;
}

/** The catalogue entry an example stands for: by its key (`not_found`, `invalid_request_2`) or its code. */
function entryOf(key: string, example: Json): ErrorCodeEntry | undefined {
  const catalogue = ERROR_CODES as Record<string, ErrorCodeEntry>;
  const ref = example.$ref;
  if (typeof ref === 'string') return catalogue[ref.slice(ref.lastIndexOf('/') + 1)];
  return catalogue[key.replace(/_\d+$/, '')] ?? catalogue[errorCodeOf(example) ?? ''];
}

function exampleCodes(response: Json): string[] {
  const media = (response.content as Json | undefined)?.['application/json'] as Json | undefined;
  return Object.values((media?.examples as Json | undefined) ?? {})
    .map(errorCodeOf)
    .filter((code): code is string => code !== undefined);
}

/** An error response's description: its codes, each with what it means (in the order of its examples). */
function describeErrors(operation: Json): void {
  for (const [status, response] of Object.entries((operation.responses as Record<string, Json> | undefined) ?? {})) {
    if (Number(status) < 400) continue;
    const media = (response.content as Json | undefined)?.['application/json'] as Json | undefined;
    if (!media || !isErrorSchema(media.schema)) continue;
    const examples = (media.examples ?? {}) as Record<string, Json>;
    const lines = Object.entries(examples).map(([key, example]) => {
      const entry = entryOf(key, example);
      return `\`${errorCodeOf(example)}\`: ${entry?.meaning ?? String(example.summary)}`;
    });
    response.description = [...new Set(lines)].join('; ') || String(response.description);
  }
}
