import type { OpenAPIObject } from '@nestjs/swagger';

/**
 * @nestjs/swagger emits OpenAPI 3.0 schemas (`nullable: true`, `example`, boolean `exclusiveMinimum`). OpenAPI 3.1
 * schemas are plain JSON Schema 2020-12, which strict tools (Ajv, openapi-typescript, redocly) read literally: a
 * `nullable` there is an unknown keyword, so a `null` the server sends fails `type: 'string'`. This turns the
 * emitted document into the 3.1 dialect once, after generation, instead of spelling 3.1 in every decorator (the
 * decorators' types only know 3.0).
 *
 * Pure: the input is not modified.
 */
export function toJsonSchema2020(document: OpenAPIObject): OpenAPIObject {
  const out = structuredClone(document) as unknown as JsonObject;
  out.openapi = '3.1.0';
  const components = asObject(out.components);
  if (components) {
    forEachValue(components.schemas, (schema, name, holder) => (holder[name] = convertSchema(schema)));
    forEachValue(components.parameters, (parameter) => convertParameter(parameter));
    forEachValue(components.headers, (header) => convertParameter(header));
    forEachValue(components.requestBodies, (body) => convertContent(body));
    forEachValue(components.responses, (response) => convertResponse(response));
    forEachValue(components.pathItems, (item) => convertPathItem(item));
    forEachValue(components.callbacks, (callback) => forEachValue(callback, (item) => convertPathItem(item)));
  }
  forEachValue(out.paths, (item) => convertPathItem(item));
  forEachValue(out.webhooks, (item) => convertPathItem(item));
  return out as unknown as OpenAPIObject;
}

type JsonObject = Record<string, unknown>;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Keywords that describe a schema rather than constrain it: kept on the outside when a nullable is wrapped. */
const ANNOTATIONS = ['title', 'description', 'default', 'examples', 'readOnly', 'writeOnly', 'deprecated', 'externalDocs'];

function convertPathItem(item: JsonObject): void {
  (asArray(item.parameters) ?? []).forEach((parameter) => convertParameter(parameter));
  for (const method of METHODS) {
    const operation = asObject(item[method]);
    if (!operation) continue;
    (asArray(operation.parameters) ?? []).forEach((parameter) => convertParameter(parameter));
    const body = asObject(operation.requestBody);
    if (body) convertContent(body);
    forEachValue(operation.responses, (response) => convertResponse(response));
    forEachValue(operation.callbacks, (callback) => forEachValue(callback, (callbackItem) => convertPathItem(callbackItem)));
  }
}

function convertResponse(response: JsonObject): void {
  convertContent(response);
  forEachValue(response.headers, (header) => convertParameter(header));
}

/** A parameter or header: its `schema`, or the schemas of its `content`. */
function convertParameter(parameter: unknown): void {
  const holder = asObject(parameter);
  if (!holder) return;
  if (holder.schema !== undefined) holder.schema = convertSchema(holder.schema);
  convertContent(holder);
}

function convertContent(holder: JsonObject): void {
  forEachValue(holder.content, (media) => {
    if (media.schema !== undefined) media.schema = convertSchema(media.schema);
    forEachValue(media.encoding, (encoding) => forEachValue(encoding.headers, (header) => convertParameter(header)));
  });
}

/** One schema, recursively. Returns the converted schema (a nullable composition becomes a new `anyOf` object). */
export function convertSchema(input: unknown): unknown {
  const schema = asObject(input);
  if (!schema) return input; // `true`/`false` schemas, or anything that is not a schema object

  for (const key of ['items', 'not', 'additionalProperties', 'unevaluatedProperties', 'unevaluatedItems', 'contains', 'propertyNames', 'if', 'then', 'else']) {
    if (schema[key] !== undefined) schema[key] = convertSchema(schema[key]);
  }
  for (const key of ['allOf', 'anyOf', 'oneOf', 'prefixItems']) {
    const list = asArray(schema[key]);
    if (list) schema[key] = list.map((entry) => convertSchema(entry));
  }
  for (const key of ['properties', 'patternProperties', 'dependentSchemas', '$defs']) {
    forEachValue(schema[key], (entry, name, holder) => (holder[name] = convertSchema(entry)));
  }

  // 3.0 `example` (one value) is 2020-12 `examples` (a list); an `examples` already there wins.
  if ('example' in schema) {
    if (schema.examples === undefined) schema.examples = [schema.example];
    delete schema.example;
  }
  // 3.0 boolean exclusive bounds qualify `minimum`/`maximum`; 2020-12 holds the bound itself.
  convertExclusiveBound(schema, 'exclusiveMinimum', 'minimum');
  convertExclusiveBound(schema, 'exclusiveMaximum', 'maximum');

  if (!('nullable' in schema)) return schema;
  const nullable = schema.nullable === true;
  delete schema.nullable;
  if (!nullable) return schema;
  return makeNullable(schema);
}

function convertExclusiveBound(schema: JsonObject, exclusive: string, bound: string): void {
  if (typeof schema[exclusive] !== 'boolean') return;
  if (schema[exclusive] === true && typeof schema[bound] === 'number') {
    schema[exclusive] = schema[bound];
    delete schema[bound];
  } else {
    delete schema[exclusive];
  }
}

function makeNullable(schema: JsonObject): JsonObject {
  const composed = schema.$ref !== undefined || schema.allOf !== undefined || schema.oneOf !== undefined || schema.anyOf !== undefined;
  if (!composed) {
    // A plain typed schema: `null` joins its type (and its enum, which would otherwise reject null).
    if (typeof schema.type === 'string') schema.type = [schema.type, 'null'];
    else if (Array.isArray(schema.type) && !schema.type.includes('null')) schema.type = [...(schema.type as unknown[]), 'null'];
    const values = asArray(schema.enum);
    if (values && !values.includes(null)) schema.enum = [...values, null];
    // (No type and no enum: the schema already admits null.)
    return schema;
  }
  // A composition (@nestjs/swagger writes a nullable nested DTO as `{nullable, type: object, allOf: [$ref]}`):
  // `type: [object, null]` would not help, since the `allOf` still demands the referenced object. The value is
  // either that schema or null.
  const outer: JsonObject = {};
  const inner: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (ANNOTATIONS.includes(key) || key.startsWith('x-')) outer[key] = value;
    else inner[key] = value;
  }
  const allOf = asArray(inner.allOf);
  // `type: object` next to the `allOf` only repeats what the reference says; a lone reference needs no wrapper.
  if (allOf && allOf.length === 1 && Object.keys(inner).every((key) => key === 'allOf' || (key === 'type' && inner.type === 'object'))) {
    outer.anyOf = [allOf[0], { type: 'null' }];
  } else {
    outer.anyOf = [inner, { type: 'null' }];
  }
  return outer;
}

function asObject(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

function asArray(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

function forEachValue(map: unknown, visit: (value: JsonObject, key: string, holder: JsonObject) => void): void {
  const holder = asObject(map);
  if (!holder) return;
  for (const [key, value] of Object.entries(holder)) {
    const object = asObject(value);
    if (object) visit(object, key, holder);
  }
}
