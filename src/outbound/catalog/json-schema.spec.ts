import { describe, expect, it } from 'vitest';
import { compileSchema } from './json-schema';

describe('compileSchema', () => {
  const validate = compileSchema({
    type: 'object',
    required: ['id', 'count'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', minLength: 2, maxLength: 4, pattern: '^[a-z]+$' },
      count: { type: 'integer', minimum: 0, maximum: 10 },
      ratio: { type: 'number' },
      when: { type: ['string', 'null'], format: 'date-time' },
      kind: { enum: ['a', 'b'] },
      tags: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 2 },
      nested: { type: 'object', properties: { 'a/b': { const: true } } },
    },
  });

  it('accepts a valid value', () => {
    expect(validate({ id: 'ab', count: 3, ratio: 0.5, when: null, kind: 'a', tags: ['x'], nested: { 'a/b': true } })).toEqual([]);
    expect(validate({ id: 'ab', count: 0, when: '2026-01-01T00:00:00Z' })).toEqual([]);
  });

  it('reports every problem with a JSON Pointer to it', () => {
    const errors = validate({ id: 'A', count: 1.5, ratio: '1', when: 'yesterday', kind: 'c', tags: [], nested: { 'a/b': false }, extra: 1 });
    const expected = [
      { path: '/id', message: 'must NOT have fewer than 2 characters' },
      { path: '/id', message: 'must match pattern "^[a-z]+$"' },
      { path: '/count', message: 'must be integer' },
      { path: '/ratio', message: 'must be number' },
      { path: '/when', message: 'must be a valid date-time' },
      { path: '/kind', message: 'must be one of "a", "b"' },
      { path: '/tags', message: 'must NOT have fewer than 1 items' },
      { path: '/nested/a~1b', message: 'must be true' },
      { path: '/extra', message: 'is not an allowed property' },
    ];
    expect(errors).toHaveLength(expected.length);
    expect(errors).toEqual(expect.arrayContaining(expected));
    expect(validate({})).toEqual([
      { path: '', message: "must have required property 'id'" },
      { path: '', message: "must have required property 'count'" },
    ]);
    expect(validate([])).toEqual([{ path: '', message: 'must be object' }]);
    expect(validate({ id: 'abcde', count: 11, tags: ['x', 1, 'z'] })).toEqual([
      { path: '/id', message: 'must NOT have more than 4 characters' },
      { path: '/count', message: 'must be <= 10' },
      { path: '/tags', message: 'must NOT have more than 2 items' },
      { path: '/tags/1', message: 'must be string' },
    ]);
  });

  it('treats integers as numbers', () => {
    const number = compileSchema({ type: 'number' });
    expect(number(3)).toEqual([]);
    expect(number('3')).toEqual([{ path: '', message: 'must be number' }]);
  });

  it('checks date-times as RFC 3339 does: no February 30th, no hour 24', () => {
    const when = compileSchema({ type: 'string', format: 'date-time' });
    expect(when('2024-02-29T23:59:59Z')).toEqual([]);
    expect(when('2024-02-29T23:59:59.123+02:00')).toEqual([]);
    for (const bad of ['2024-02-30T24:00:00Z', '2023-02-29T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01', '2024-01-01T00:00:00']) {
      expect(when(bad), bad).toEqual([{ path: '', message: 'must be a valid date-time' }]);
    }
  });

  it('does not read inherited properties as present', () => {
    const schema = { type: 'object', required: ['toString'], properties: { toString: { type: 'string' } } } as const;
    expect(compileSchema(schema)({})).toEqual([{ path: '', message: "must have required property 'toString'" }]);
  });

  it('refuses schemas with keywords it does not implement, so a typo cannot validate nothing', () => {
    expect(() => compileSchema({ type: 'object', requierd: ['x'] } as never)).toThrow(/requierd/);
    expect(() => compileSchema({ properties: { a: { oneOf: [] } } } as never)).toThrow(/oneOf/);
    expect(() => compileSchema({ type: 'strnig' } as never)).toThrow(/strnig|type/);
  });
});
