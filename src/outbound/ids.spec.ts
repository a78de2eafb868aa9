import { describe, expect, it } from 'vitest';
import { deliveryIdFor, uuidV5 } from './ids';

describe('uuidV5', () => {
  it('matches RFC 9562 version 5 (the DNS namespace example from the uuid libraries)', () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('gives one delivery id per (event, webhook), the same every time', () => {
    const a = deliveryIdFor('e1', 'w1');
    expect(deliveryIdFor('e1', 'w1')).toBe(a);
    expect(deliveryIdFor('e1', 'w2')).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
