import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { createHash } from 'node:crypto';
import { Readable, Transform, pipeline } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { buildOpenApiDocument } from '../../src/app.factory';

/**
 * Every response an in-process test app sends is checked against the OpenAPI document built from that same
 * app (so it is the code's document; another test checks that the committed openapi/ files equal it): the
 * status must be documented for the operation, the content type must be one the document lists for that
 * status, and the body must validate, with Ajv 2020 in strict mode, against the schema the document gives —
 * objects that leave their other properties unsaid checked as closed, so an undocumented property is drift too.
 * Streamed bodies (the audit NDJSON exports) are checked line by line as they pass. docs/api.md describes it.
 *
 * Not covered: servers started as child processes (test/support/server-process.ts) — their replies never pass
 * through this process's Fastify — and the replies Node's HTTP parser sends itself before Fastify routes
 * anything (src/http/client-errors.ts: malformed requests, header timeouts).
 */

export interface ResponseViolation {
  method: string;
  /** The route pattern, as Fastify knows it (`/api/incidents/:id`). */
  route: string;
  url: string;
  status: number;
  contentType: string | undefined;
  problems: string[];
  bodyExcerpt: string;
}

/**
 * Routes the server has that the document deliberately leaves out, each with its reason. Any other route
 * missing from the document is itself a violation when it answers.
 */
export const UNDOCUMENTED_ROUTES: ReadonlyArray<{ route: RegExp; reason: string }> = [
  { route: /^\/docs(\/.*)?$/, reason: 'Swagger UI and its static assets (HTML, JavaScript, CSS), served by @nestjs/swagger' },
  { route: /^\/openapi\.(json|yaml)$/, reason: 'the document itself: describing it inside itself would be circular' },
];

interface DocumentedResponse {
  /** Media type → its body validator (undefined: the media type is listed without a schema). */
  content: Map<string, (() => ValidateFunction) | undefined> | undefined;
}

interface Operation {
  responses: Map<string, DocumentedResponse>;
}

const ANNOTATION_KEYWORDS = [
  // OpenAPI 3.1's base vocabulary on top of JSON Schema 2020-12: annotations only, they constrain nothing.
  'example',
  'discriminator',
  'xml',
  'externalDocs',
];

export class ResponseValidator {
  private readonly operations = new Map<string, Operation>();

  /**
   * `eager`: compile every response schema now (a schema strict mode refuses then throws here). Otherwise each
   * is compiled when a response first needs it: a test app answers a few dozen of the ~300 documented
   * responses, and compiling all of them costs seconds per test file.
   */
  constructor(document: OpenAPIObject, options: { eager?: boolean } = {}) {
    if (!document.openapi.startsWith('3.1')) {
      throw new Error(`The response validator reads OpenAPI 3.1 (JSON Schema 2020-12); the document is ${document.openapi}`);
    }
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    // Ajv understands OpenAPI 3.0's `nullable` on its own; 3.1 has no such keyword (other 3.1 tools ignore it, so a
    // leftover would pass here and mislead them): without it, strict mode refuses it as unknown.
    ajv.removeKeyword('nullable');
    const extensions = new Set<string>();
    collectExtensions(document.components?.schemas, extensions);
    collectExtensions(document.paths, extensions);
    ajv.addVocabulary([...ANNOTATION_KEYWORDS, ...extensions]);

    // The document's references read `#/components/schemas/X`; compiled one response at a time, they point into
    // one registered schema that holds the components as `$defs`.
    const rewrite = (value: unknown) => rewriteRefs(value, '#/components/schemas/', `${COMPONENTS_ID}#/$defs/`);
    const components = structuredClone(document.components?.schemas ?? {}) as Record<string, unknown>;
    // A property the server sends that the document does not list is drift too: objects that do not say what
    // else they allow are closed here (unevaluatedProperties sees through allOf/anyOf, unlike additionalProperties).
    for (const schema of Object.values(components)) closeObjects(schema);
    ajv.addSchema({ $id: COMPONENTS_ID, $defs: rewrite(components) as object });

    for (const [path, item] of Object.entries(document.paths)) {
      for (const method of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const) {
        const operation = item[method];
        if (!operation) continue;
        const responses = new Map<string, DocumentedResponse>();
        for (const [status, response] of Object.entries(operation.responses ?? {})) {
          if (!response) continue;
          const where = `${method.toUpperCase()} ${path} ${status}`;
          if ('$ref' in response) throw new Error(`${where}: a response $ref is not supported here`);
          const content = response.content
            ? new Map(
                Object.entries(response.content).map(([mediaType, media]) => {
                  if (!media.schema) return [mediaType.toLowerCase(), undefined];
                  const schema = rewrite(closeObjects(structuredClone(media.schema))) as object;
                  let compiled: ValidateFunction | undefined;
                  const compile = () => {
                    try {
                      return (compiled ??= ajv.compile(schema));
                    } catch (error) {
                      throw new Error(`${where} ${mediaType}: the schema does not compile in strict mode: ${(error as Error).message}`, { cause: error });
                    }
                  };
                  if (options.eager) compile();
                  return [mediaType.toLowerCase(), compile];
                }),
              )
            : undefined;
          responses.set(status.toUpperCase(), { content });
        }
        this.operations.set(`${method.toUpperCase()} ${toFastifyPattern(path)}`, { responses });
      }
    }
  }

  /** The problems of one response (empty: it matches the document), or undefined when the route is skipped. */
  check(response: { method: string; route: string | undefined; status: number; contentType: string | undefined; body: string | Buffer | null | 'stream' }): string[] | undefined {
    // No route: Fastify's not-found answer for a path the server does not have is not an operation.
    if (response.route === undefined) return undefined;
    if (UNDOCUMENTED_ROUTES.some(({ route }) => route.test(response.route!))) return undefined;
    // Fastify answers HEAD for every GET route on its own; it is checked as the GET without a body.
    const method = response.method === 'HEAD' && !this.operations.has(`HEAD ${response.route}`) ? 'GET' : response.method;
    const operation = this.operations.get(`${method} ${response.route}`);
    if (!operation) return [`${method} ${response.route} is not in the document (and not in UNDOCUMENTED_ROUTES)`];

    const status = String(response.status);
    const documented =
      operation.responses.get(status) ?? operation.responses.get(`${status[0]}XX`) ?? operation.responses.get('DEFAULT');
    if (!documented) return [`status ${status} is not documented for this operation (documented: ${[...operation.responses.keys()].join(', ')})`];

    const body = response.body;
    const empty = body === null || body.length === 0;
    if (response.method === 'HEAD') return [];
    if (!documented.content || documented.content.size === 0) {
      return empty ? [] : [`the document describes no body for ${status}, but the server sent one (${response.contentType ?? 'no content type'})`];
    }
    if (empty) return [`the document describes a ${[...documented.content.keys()].join(' or ')} body for ${status}, but the body is empty`];

    const mediaType = response.contentType?.split(';')[0].trim().toLowerCase();
    const key = mediaType === undefined ? undefined : [...documented.content.keys()].find((listed) => mediaTypeMatches(listed, mediaType));
    if (key === undefined) {
      return [`content type ${response.contentType ?? '(none)'} is not documented for ${status} (documented: ${[...documented.content.keys()].join(', ')})`];
    }
    const compile = documented.content.get(key);
    // 'stream': a streamed body too large to keep a copy of (validateResponses): status and type only.
    if (!compile || body === 'stream') return [];
    const validate = compile();

    const text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
    let value: unknown = text;
    if (isJson(mediaType!)) {
      try {
        value = JSON.parse(text);
      } catch {
        return [`the body is not JSON although the content type is ${response.contentType}`];
      }
    } else if (mediaType === NDJSON) {
      // OpenAPI 3.1 has no per-line schema: an NDJSON body's schema is that of each line.
      return text
        .split('\n')
        .filter((line) => line !== '')
        .flatMap((line, index) => {
          let record: unknown;
          try {
            record = JSON.parse(line);
          } catch {
            return [`line ${index + 1} is not JSON`];
          }
          return validate(record) ? [] : (validate.errors ?? []).map((error) => `line ${index + 1}: ${formatError(error)}`);
        });
    } else if (!schemaIsForText(validate)) {
      return [`no way to check a ${mediaType} body against a non-string schema`];
    }
    return validate(value) ? [] : (validate.errors ?? []).map(formatError);
  }
}

const COMPONENTS_ID = 'https://towline.invalid/openapi/components';
const NDJSON = 'application/x-ndjson';

const cache = new Map<string, ResponseValidator>();

/** One validator per distinct document per process: compiling every schema takes a while and the document rarely differs. */
export function responseValidatorFor(document: OpenAPIObject): ResponseValidator {
  const key = createHash('sha256').update(JSON.stringify(document)).digest('hex');
  let validator = cache.get(key);
  if (!validator) {
    validator = new ResponseValidator(document);
    cache.set(key, validator);
  }
  return validator;
}

/** The document of this app, as the server serves it and `npm run openapi` writes it. */
export function documentOf(app: NestFastifyApplication): OpenAPIObject {
  return buildOpenApiDocument(app);
}

/**
 * Checks every response `app` sends from now on (an `onSend` hook, so whatever client made the request: fetch,
 * openapi-fetch, the CLI, a browser). Must be called before the app listens.
 */
export function validateResponses(app: NestFastifyApplication, document: OpenAPIObject = documentOf(app)): { violations(): ResponseViolation[] } {
  const validator = responseValidatorFor(document);
  const violations: ResponseViolation[] = [];
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  fastify.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const contentType = headerValue(reply.getHeader('content-type'));
    const route = request.routeOptions.url;
    const record = (body: string | Buffer | null | 'stream') => {
      let problems: string[] | undefined;
      try {
        problems = validator.check({ method: request.method, route, status: reply.statusCode, contentType, body });
      } catch (error) {
        problems = [`the validator failed: ${(error as Error).message}`];
      }
      if (!problems || problems.length === 0) return;
      const text = body === 'stream' ? '(stream)' : body === null ? '' : Buffer.isBuffer(body) ? body.toString('utf8') : body;
      violations.push({
        method: request.method,
        route: route ?? '(no route)',
        url: request.url,
        status: reply.statusCode,
        contentType,
        problems,
        bodyExcerpt: text.length > 400 ? `${text.slice(0, 400)}…` : text,
      });
    };
    if (!(payload instanceof Readable)) {
      record(payloadOf(payload));
      return payload;
    }
    // A streamed body (the audit NDJSON exports) is checked as it passes: a copy is kept (up to a bound) and
    // checked when the stream ends, before the response is complete, so before the test can close the app.
    const chunks: Buffer[] = [];
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size <= MAX_CHECKED_STREAM) chunks.push(Buffer.from(chunk));
        done(null, chunk);
      },
      flush(done) {
        record(size <= MAX_CHECKED_STREAM ? Buffer.concat(chunks) : 'stream');
        done();
      },
    });
    // An error of the source destroys the tap, which Fastify then reports as it would the source's.
    pipeline(payload, tap, () => undefined);
    return tap;
  });
  return { violations: () => [...violations] };
}

/** The report t.close() throws: every violation, with what the document expected. */
export function formatViolations(violations: ResponseViolation[]): string {
  return [
    `${violations.length} response(s) do not match the OpenAPI document:`,
    ...violations.map(
      (v) =>
        `- ${v.method} ${v.route} (${v.url}) → ${v.status} ${v.contentType ?? '(no content type)'}\n` +
        v.problems.map((problem) => `    ${problem}`).join('\n') +
        `\n    body: ${v.bodyExcerpt}`,
    ),
  ].join('\n');
}

/** Above this, a streamed body's status and content type are checked, not its content. */
const MAX_CHECKED_STREAM = 16 * 1024 * 1024;

function payloadOf(payload: unknown): string | Buffer | null | 'stream' {
  if (payload === null || payload === undefined) return null;
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) return payload;
  if (payload instanceof Uint8Array) return Buffer.from(payload);
  return 'stream';
}

function headerValue(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? String(value[0]) : String(value);
}

function toFastifyPattern(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

function mediaTypeMatches(listed: string, actual: string): boolean {
  if (listed === actual || listed === '*/*') return true;
  return listed.endsWith('/*') && actual.startsWith(listed.slice(0, -1));
}

function isJson(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

function schemaIsForText(validate: ValidateFunction): boolean {
  const schema = validate.schema as { type?: unknown };
  return typeof schema === 'object' && schema !== null && (schema.type === 'string' || (Array.isArray(schema.type) && schema.type.includes('string')));
}

function formatError(error: ErrorObject): string {
  const where = error.instancePath || '(body)';
  const { additionalProperty, unevaluatedProperty } = error.params as { additionalProperty?: string; unevaluatedProperty?: string };
  const extra = additionalProperty ?? unevaluatedProperty;
  const params = extra === undefined ? '' : ` '${extra}'`;
  // A component Ajv compiled on its own is named in the path; one it inlined is not (the path is then relative to it).
  return `${where} ${error.message ?? error.keyword}${params} (${error.schemaPath.replace(`${COMPONENTS_ID}#/$defs/`, '#/components/schemas/')})`;
}

/** Adds `unevaluatedProperties: false` to every object schema with properties that leaves the rest unsaid. */
function closeObjects<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const schema = value as Record<string, unknown>;
  for (const key of ['items', 'not', 'additionalProperties', 'unevaluatedProperties', 'contains', 'if', 'then', 'else']) closeObjects(schema[key]);
  for (const key of ['allOf', 'anyOf', 'oneOf', 'prefixItems']) if (Array.isArray(schema[key])) (schema[key] as unknown[]).forEach(closeObjects);
  for (const key of ['properties', 'patternProperties', '$defs']) {
    const map = schema[key];
    if (map && typeof map === 'object') Object.values(map).forEach(closeObjects);
  }
  const open = ['additionalProperties', 'unevaluatedProperties', 'patternProperties'].some((key) => key in schema);
  if (schema.properties !== undefined && !open) schema.unevaluatedProperties = false;
  return value;
}

function rewriteRefs(value: unknown, from: string, to: string): unknown {
  if (Array.isArray(value)) return value.map((entry) => rewriteRefs(entry, from, to));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    out[key] = key === '$ref' && typeof entry === 'string' && entry.startsWith(from) ? to + entry.slice(from.length) : rewriteRefs(entry, from, to);
  }
  return out;
}

/** `x-…` keys (vendor extensions such as x-enumNames) used in the schemas: Ajv must know them as annotations. */
function collectExtensions(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) return value.forEach((entry) => collectExtensions(entry, into));
  if (value === null || typeof value !== 'object') return;
  for (const [key, entry] of Object.entries(value)) {
    if (key.startsWith('x-')) into.add(key);
    collectExtensions(entry, into);
  }
}
