import { describe, expect, it } from 'vitest';
import { deliveryIdFor } from './ids';

describe('delivery ids', () => {
  it('gives one delivery id per (event, webhook), the same every time', () => {
    const a = deliveryIdFor('e1', 'w1');
    expect(deliveryIdFor('e1', 'w1')).toBe(a);
    expect(deliveryIdFor('e1', 'w2')).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
