import type { OpenAPIObject } from '@nestjs/swagger';
import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { toJsonSchema2020 } from './json-schema-2020';

function documentWith(schemas: Record<string, unknown>, paths: Record<string, unknown> = {}): OpenAPIObject {
  return { openapi: '3.0.0', info: { title: 't', version: '1' }, paths, components: { schemas } } as unknown as OpenAPIObject;
}

function schemasOf(document: OpenAPIObject): Record<string, any> {
  return document.components!.schemas as Record<string, any>;
}

/** Ajv in strict mode, with the converted component schemas, so each case is checked by a real validator too. */
function validatorFor(document: OpenAPIObject, name: string) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  for (const [key, schema] of Object.entries(schemasOf(document))) ajv.addSchema(schema, `#/components/schemas/${key}`);
  return ajv.compile({ $ref: `#/components/schemas/${name}` });
}

describe('toJsonSchema2020', () => {
  it('sets openapi 3.1.0 and leaves the input untouched', () => {
    const input = documentWith({ A: { type: 'string', nullable: true } });
    const copy = structuredClone(input);
    const output = toJsonSchema2020(input);
    expect(output.openapi).toBe('3.1.0');
    expect(input).toEqual(copy);
  });

  it('turns a nullable type into a type list, and adds null to a nullable enum', () => {
    const output = toJsonSchema2020(
      documentWith({
        Incident: {
          type: 'object',
          properties: {
            verdict: { type: 'string', enum: ['malicious', 'benign'], nullable: true, description: 'kept' },
            note: { type: 'string', nullable: true },
            tags: { type: 'array', items: { type: 'string' }, nullable: true },
            count: { type: 'integer', nullable: false },
          },
          required: ['verdict', 'note'],
        },
      }),
    );
    const properties = schemasOf(output).Incident.properties;
    expect(properties.verdict).toEqual({ type: ['string', 'null'], enum: ['malicious', 'benign', null], description: 'kept' });
    expect(properties.note).toEqual({ type: ['string', 'null'] });
    expect(properties.tags).toEqual({ type: ['array', 'null'], items: { type: 'string' } });
    expect(properties.count).toEqual({ type: 'integer' });
    const validate = validatorFor(output, 'Incident');
    expect(validate({ verdict: null, note: null, tags: null, count: 1 })).toBe(true);
    expect(validate({ verdict: 'benign', note: 'x' })).toBe(true);
    expect(validate({ verdict: 'other', note: null })).toBe(false);
    expect(validate({ verdict: null, note: null, count: null })).toBe(false);
  });

  it('turns a nullable allOf reference into anyOf [reference, null], keeping the annotations outside', () => {
    const output = toJsonSchema2020(
      documentWith({
        Sla: { type: 'object', properties: { due_at: { type: 'string' } }, required: ['due_at'] },
        Incident: {
          type: 'object',
          properties: {
            sla: { nullable: true, description: 'The SLA', type: 'object', allOf: [{ $ref: '#/components/schemas/Sla' }] },
            either: { nullable: true, oneOf: [{ type: 'integer' }, { type: 'string' }] },
          },
          required: ['sla'],
        },
      }),
    );
    const properties = schemasOf(output).Incident.properties;
    expect(properties.sla).toEqual({ description: 'The SLA', anyOf: [{ $ref: '#/components/schemas/Sla' }, { type: 'null' }] });
    expect(properties.either).toEqual({ anyOf: [{ oneOf: [{ type: 'integer' }, { type: 'string' }] }, { type: 'null' }] });
    const validate = validatorFor(output, 'Incident');
    expect(validate({ sla: null, either: null })).toBe(true);
    expect(validate({ sla: { due_at: 'x' }, either: 3 })).toBe(true);
    expect(validate({ sla: {} })).toBe(false);
    expect(validate({ sla: 'x' })).toBe(false);
  });

  it('turns example into examples, and boolean exclusive bounds into numeric ones', () => {
    const output = toJsonSchema2020(
      documentWith({
        A: {
          type: 'object',
          properties: {
            since: { type: 'integer', example: 1767225600 },
            both: { type: 'string', example: 'a', examples: ['b'] },
            ratio: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: false },
          },
        },
      }),
    );
    const properties = schemasOf(output).A.properties;
    expect(properties.since).toEqual({ type: 'integer', examples: [1767225600] });
    expect(properties.both).toEqual({ type: 'string', examples: ['b'] });
    expect(properties.ratio).toEqual({ type: 'number', exclusiveMinimum: 0, maximum: 1 });
    const validate = validatorFor(output, 'A');
    expect(validate({ ratio: 0 })).toBe(false);
    expect(validate({ ratio: 1 })).toBe(true);
  });

  it('converts schemas wherever an operation holds them, but not media-type examples or property names', () => {
    const output = toJsonSchema2020(
      documentWith(
        { Odd: { type: 'object', properties: { nullable: { type: 'boolean' }, example: { type: 'string' } } } },
        {
          '/x/{id}': {
            parameters: [{ name: 'id', in: 'path', schema: { type: 'string', example: 'inc_1' } }],
            get: {
              parameters: [{ name: 'q', in: 'query', schema: { type: 'string', nullable: true } }],
              responses: {
                '200': {
                  description: 'ok',
                  headers: { 'x-a': { schema: { type: 'integer', nullable: true } } },
                  content: { 'application/json': { schema: { type: 'array', items: { type: 'string', nullable: true } }, example: ['a'] } },
                },
              },
            },
            post: { requestBody: { content: { 'application/json': { schema: { type: 'object', nullable: true } } } }, responses: {} },
          },
        },
      ),
    ) as any;
    const item = output.paths['/x/{id}'];
    expect(item.parameters[0].schema).toEqual({ type: 'string', examples: ['inc_1'] });
    expect(item.get.parameters[0].schema).toEqual({ type: ['string', 'null'] });
    const ok = item.get.responses['200'];
    expect(ok.headers['x-a'].schema).toEqual({ type: ['integer', 'null'] });
    expect(ok.content['application/json']).toEqual({ schema: { type: 'array', items: { type: ['string', 'null'] } }, example: ['a'] });
    expect(item.post.requestBody.content['application/json'].schema).toEqual({ type: ['object', 'null'] });
    expect(output.components.schemas.Odd.properties).toEqual({ nullable: { type: 'boolean' }, example: { type: 'string' } });
  });

  it('converts the schemas of a webhooks section', () => {
    const output = toJsonSchema2020({
      ...documentWith({}),
      webhooks: { 'incident.opened': { post: { requestBody: { content: { 'application/json': { schema: { type: 'string', nullable: true } } } }, responses: {} } } },
    } as unknown as OpenAPIObject) as any;
    expect(output.webhooks['incident.opened'].post.requestBody.content['application/json'].schema).toEqual({ type: ['string', 'null'] });
  });
});
