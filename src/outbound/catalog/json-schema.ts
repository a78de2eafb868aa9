import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * The catalog's JSON Schemas (draft 2020-12), checked by Ajv — the validator Fastify itself uses — with
 * ajv-formats for `date-time` (RFC 3339: `2024-02-30T24:00:00Z` is refused), `uuid` and `uri`. Strict mode: a
 * schema using a keyword Ajv does not know makes `compileSchema` throw, so a typo in a schema cannot silently
 * validate nothing. Errors are `{ path, message }` with a JSON Pointer path to the offending value.
 */
export type JsonType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';

/** The subset of the vocabulary the catalog writes (the type keeps hand-written schemas to it). */
export interface JsonSchema {
  type?: JsonType | JsonType[];
  description?: string;
  enum?: readonly (string | number | boolean | null)[];
  const?: string | number | boolean | null;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: 'date-time' | 'uuid' | 'uri';
  minimum?: number;
  maximum?: number;
}

export interface SchemaError {
  path: string;
  message: string;
}

export type Validator = (value: unknown) => SchemaError[];

// One instance for the catalog: schemas compile once at start. `allowUnionTypes`: the catalog writes
// `type: ['string', 'null']` for nullable fields; `unicodeRegExp`: patterns are matched as the catalog's
// documentation shows them (code points, like JavaScript's `u` flag); `ownProperties`: a payload's inherited
// `toString` or `constructor` is never read as a property it sent.
const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true, unicodeRegExp: true, ownProperties: true });
addFormats(ajv, ['date-time', 'uuid', 'uri']);

const pointer = (path: string, key: string) => `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;

/** Ajv's error, worded for the API's `details` (the messages the catalog's clients already read). */
function toSchemaError(error: ErrorObject): SchemaError {
  const path = error.instancePath;
  switch (error.keyword) {
    case 'additionalProperties':
      return { path: pointer(path, (error.params as { additionalProperty: string }).additionalProperty), message: 'is not an allowed property' };
    case 'enum':
      return { path, message: `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((o) => JSON.stringify(o)).join(', ')}` };
    case 'const':
      return { path, message: `must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}` };
    case 'format':
      return { path, message: `must be a valid ${(error.params as { format: string }).format}` };
    default:
      return { path, message: error.message ?? `fails ${error.keyword}` };
  }
}

/** Compiles the schema once (Ajv refuses unknown keywords, bad patterns and formats) and returns its validator. */
export function compileSchema(schema: JsonSchema): Validator {
  const validate = ajv.compile(schema);
  return (value) => (validate(value) ? [] : (validate.errors ?? []).map(toSchemaError));
}
