import { describe, expect, it } from 'vitest';
import { deterministicUuid, isUuid, nameBasedUuid } from './ids';

describe('ids', () => {
  it('nameBasedUuid is RFC 9562 version 5 (the DNS namespace example from the uuid libraries)', () => {
    expect(nameBasedUuid('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('deterministicUuid keeps the values already stored (a pinned derivation), and is a version 8 uuid', () => {
    expect(deterministicUuid('incident', 'org-1', 'key')).toBe('36d37b9c-15dd-8591-9a7c-8ef2dc259743');
    expect(deterministicUuid('ab', 'c')).not.toBe(deterministicUuid('a', 'bc'));
    expect(deterministicUuid('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('isUuid accepts the lower-case spelling the store writes only', () => {
    expect(isUuid('2ed6657d-e927-568b-95e1-2665a8aea6a2')).toBe(true);
    expect(isUuid('2ED6657D-E927-568B-95E1-2665A8AEA6A2')).toBe(false);
    expect(isUuid('constructor')).toBe(false);
  });
});
