import { IsObject } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { AsSent, RequestValidationPipe, strippedKeyPath } from './request-validation';

class EventBody {
  @IsObject() @AsSent()
  data: Record<string, unknown>;
}

const pipe = new RequestValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });
const validate = (body: unknown) => pipe.transform(body, { type: 'body', metatype: EventBody });
const NAMES = Object.getOwnPropertyNames(Object.prototype);

describe('request validation and Object.prototype names', () => {
  it('finds constructor and prototype keys at any depth, in objects of any prototype', () => {
    expect(strippedKeyPath({ data: { a: [{ b: 1 }] } })).toBeUndefined();
    expect(strippedKeyPath({ severity_mapping: { constructor: 'high' } })).toBe('severity_mapping.constructor');
    expect(strippedKeyPath({ a: [{}, { prototype: {} }] })).toBe('a[1].prototype');
    const query = Object.assign(Object.create(null) as object, { constructor: 'x' });
    expect(strippedKeyPath(query)).toBe('constructor');
  });

  it('refuses such a key with a 400 naming it, instead of deleting it silently', async () => {
    for (const key of ['constructor', 'prototype']) {
      await expect(validate(JSON.parse(`{"data": {"nested": {"${key}": 1}}}`))).rejects.toMatchObject({
        status: 400,
        code: 'invalid_request',
        details: [{ field: 'data', problems: [expect.stringContaining(`data.nested.${key}`)] }],
      });
    }
  });

  it('keeps every other Object.prototype name of a free-form object as sent, as own data', async () => {
    const names = NAMES.filter((name) => name !== 'constructor' && name !== '__proto__');
    const data = Object.fromEntries(names.map((name) => [name, name]));
    const result = (await validate({ data: { ...data, ok: 1 } })) as EventBody;
    expect(result).toBeInstanceOf(EventBody);
    expect(Object.keys(result.data).sort()).toEqual([...names, 'ok'].sort());
    expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(NAMES);
  });
});
