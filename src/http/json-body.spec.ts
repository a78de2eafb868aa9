import { describe, expect, it } from 'vitest';
import { maxNestingDepth, parseJsonBody } from './json-body';

const buf = (s: string) => Buffer.from(s, 'utf8');

describe('parseJsonBody', () => {
  it('parses ordinary JSON', () => {
    expect(parseJsonBody(buf('{"a":[1,{"b":"x"}]}'))).toEqual({ a: [1, { b: 'x' }] });
  });

  it('accepts 64 levels of nesting and refuses 65', () => {
    expect(() => parseJsonBody(buf('['.repeat(64) + ']'.repeat(64)))).not.toThrow();
    expect(() => parseJsonBody(buf('['.repeat(65) + ']'.repeat(65)))).toThrow(/deeper than 64/);
  });

  it('refuses a million opening brackets without parsing them', () => {
    expect(() => parseJsonBody(buf('['.repeat(1_000_000)))).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(maxNestingDepth(buf('{"a":"[[[[\\"{{{{"}'))).toBe(1);
  });

  it('refuses __proto__ keys, also when spelled with escapes or nested', () => {
    expect(() => parseJsonBody(buf('{"__proto__":{"admin":true}}'))).toThrow(/__proto__/);
    expect(() => parseJsonBody(buf('{"a":[{"\\u005f_proto__":1}]}'))).toThrow(/__proto__/);
  });

  it('answers malformed JSON with the code the route chose', () => {
    expect(() => parseJsonBody(buf('{"a":'), 'invalid_payload')).toThrow(
      expect.objectContaining({ status: 400, code: 'invalid_payload' }),
    );
  });
});

describe('parseJsonBody and unpaired surrogates', () => {
  it('refuses a \\ud800 escape in a value or a key with the route\'s code, naming where it is', () => {
    expect(() => parseJsonBody(buf('{"data":{"title":"x\\ud800y"}}'), 'invalid_payload')).toThrow(
      expect.objectContaining({ status: 400, code: 'invalid_payload', message: expect.stringContaining('data.title') }),
    );
    expect(() => parseJsonBody(buf('{"\\udfff":1}'))).toThrow(expect.objectContaining({ status: 400, code: 'invalid_request' }));
  });

  it('accepts escaped pairs and raw emoji', () => {
    expect(parseJsonBody(buf('{"t":"\\ud83d\\ude00 😀"}'))).toEqual({ t: '😀 😀' });
  });
});
