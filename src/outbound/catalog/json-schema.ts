/**
 * A small, strict JSON Schema (draft 2020-12 subset) validator for the catalog's hand-written schemas. It
 * knows exactly the keywords below and refuses a schema using any other (`compileSchema` throws), so a typo
 * in a schema cannot silently validate nothing. Errors are `{ path, message }` with a JSON Pointer path.
 */
export type JsonType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';

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

const KEYWORDS = new Set([
  'type', 'description', 'enum', 'const', 'properties', 'required', 'additionalProperties', 'items', 'minItems',
  'maxItems', 'minLength', 'maxLength', 'pattern', 'format', 'minimum', 'maximum',
]);
const TYPES = new Set<JsonType>(['object', 'array', 'string', 'number', 'integer', 'boolean', 'null']);
const FORMATS: Record<NonNullable<JsonSchema['format']>, (value: string) => boolean> = {
  'date-time': (value) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(value) && !Number.isNaN(Date.parse(value)),
  uuid: (value) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value),
  uri: (value) => URL.canParse(value),
};

export type Validator = (value: unknown) => SchemaError[];

/** Checks the schema once (unknown keywords, bad patterns) and returns its validator. */
export function compileSchema(schema: JsonSchema): Validator {
  checkSchema(schema, '#');
  return (value) => {
    const errors: SchemaError[] = [];
    validate(schema, value, '', errors);
    return errors;
  };
}

function checkSchema(schema: JsonSchema, at: string): void {
  for (const key of Object.keys(schema)) if (!KEYWORDS.has(key)) throw new Error(`Unsupported JSON Schema keyword '${key}' at ${at}`);
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  for (const type of types) if (!TYPES.has(type)) throw new Error(`Unknown type '${type}' at ${at}`);
  if (schema.pattern !== undefined) new RegExp(schema.pattern, 'u');
  if (schema.format !== undefined && !(schema.format in FORMATS)) throw new Error(`Unknown format '${schema.format}' at ${at}`);
  for (const [name, property] of Object.entries(schema.properties ?? {})) checkSchema(property, `${at}/properties/${name}`);
  if (typeof schema.additionalProperties === 'object') checkSchema(schema.additionalProperties, `${at}/additionalProperties`);
  if (schema.items) checkSchema(schema.items, `${at}/items`);
}

function typeOf(value: unknown): JsonType | 'invalid' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isFinite(value) ? (Number.isInteger(value) ? 'integer' : 'number') : 'invalid';
    case 'object':
      return 'object';
    default:
      return 'invalid';
  }
}

const matchesType = (actual: JsonType | 'invalid', expected: JsonType) =>
  actual === expected || (expected === 'number' && actual === 'integer');

const pointer = (path: string, key: string | number) => `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;

function validate(schema: JsonSchema, value: unknown, path: string, errors: SchemaError[]): void {
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((type) => matchesType(actual, type))) {
      errors.push({ path, message: `must be ${types.join(' or ')}` });
      return;
    }
  }
  if (schema.const !== undefined && value !== schema.const) errors.push({ path, message: `must be ${JSON.stringify(schema.const)}` });
  if (schema.enum && !schema.enum.some((option) => option === value)) {
    errors.push({ path, message: `must be one of ${schema.enum.map((o) => JSON.stringify(o)).join(', ')}` });
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) errors.push({ path, message: `must have at least ${schema.minLength} characters` });
    if (schema.maxLength !== undefined && length > schema.maxLength) errors.push({ path, message: `must have at most ${schema.maxLength} characters` });
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) errors.push({ path, message: `must match ${schema.pattern}` });
    if (schema.format !== undefined && !FORMATS[schema.format](value)) errors.push({ path, message: `must be a valid ${schema.format}` });
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push({ path, message: `must be >= ${schema.minimum}` });
    if (schema.maximum !== undefined && value > schema.maximum) errors.push({ path, message: `must be <= ${schema.maximum}` });
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push({ path, message: `must have at least ${schema.minItems} items` });
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push({ path, message: `must have at most ${schema.maxItems} items` });
    if (schema.items) value.forEach((item, i) => validate(schema.items!, item, pointer(path, i), errors));
  }
  if (actual === 'object') {
    const object = value as Record<string, unknown>;
    for (const name of schema.required ?? []) {
      if (!Object.prototype.hasOwnProperty.call(object, name)) errors.push({ path, message: `must have required property '${name}'` });
    }
    for (const [name, property] of Object.entries(object)) {
      const declared = schema.properties && Object.prototype.hasOwnProperty.call(schema.properties, name) ? schema.properties[name] : undefined;
      if (declared) validate(declared, property, pointer(path, name), errors);
      else if (schema.additionalProperties === false) errors.push({ path: pointer(path, name), message: 'is not an allowed property' });
      else if (typeof schema.additionalProperties === 'object') validate(schema.additionalProperties, property, pointer(path, name), errors);
    }
  }
}
