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
    expect(validate({ id: 'A', count: 1.5, ratio: '1', when: 'yesterday', kind: 'c', tags: [], nested: { 'a/b': false }, extra: 1 })).toEqual([
      { path: '/id', message: 'must have at least 2 characters' },
      { path: '/id', message: 'must match ^[a-z]+$' },
      { path: '/count', message: 'must be integer' },
      { path: '/ratio', message: 'must be number' },
      { path: '/when', message: 'must be a valid date-time' },
      { path: '/kind', message: 'must be one of "a", "b"' },
      { path: '/tags', message: 'must have at least 1 items' },
      { path: '/nested/a~1b', message: 'must be true' },
      { path: '/extra', message: 'is not an allowed property' },
    ]);
    expect(validate({})).toEqual([
      { path: '', message: "must have required property 'id'" },
      { path: '', message: "must have required property 'count'" },
    ]);
    expect(validate([])).toEqual([{ path: '', message: 'must be object' }]);
    expect(validate({ id: 'abcde', count: 11, tags: ['x', 1, 'z'] })).toEqual([
      { path: '/id', message: 'must have at most 4 characters' },
      { path: '/count', message: 'must be <= 10' },
      { path: '/tags', message: 'must have at most 2 items' },
      { path: '/tags/1', message: 'must be string' },
    ]);
  });

  it('treats integers as numbers, but not NaN or infinities', () => {
    const number = compileSchema({ type: 'number' });
    expect(number(3)).toEqual([]);
    expect(number(Number.NaN)).toEqual([{ path: '', message: 'must be number' }]);
  });

  it('does not read inherited properties as present', () => {
    expect(compileSchema({ type: 'object', required: ['toString'] })({})).toEqual([{ path: '', message: "must have required property 'toString'" }]);
  });

  it('refuses schemas with keywords it does not implement, so a typo cannot validate nothing', () => {
    expect(() => compileSchema({ type: 'object', requierd: ['x'] } as never)).toThrow(/requierd/);
    expect(() => compileSchema({ properties: { a: { oneOf: [] } } } as never)).toThrow(/oneOf/);
    expect(() => compileSchema({ type: 'strnig' } as never)).toThrow(/strnig/);
  });
});
