import { describe, expect, it } from 'vitest';
import { DeliveryClaims, RECORDED_TTL_MS } from './delivery-claims';

describe('DeliveryClaims', () => {
  it('lets one runner at a time hold a delivery, until it releases or the lease ends', () => {
    const claims = new DeliveryClaims();
    expect(claims.claim('d-1', 1_000, 0)).toBe(true);
    expect(claims.claim('d-1', 1_000, 10)).toBe(false);
    expect(claims.claim('d-1', 1_000, 1_001)).toBe(true);
    claims.release('d-1');
    expect(claims.isClaimed('d-1', 1_002)).toBe(false);
  });

  it('holds a recorded attempt (and earlier ones), not later ones, until the due-work table has had time to show it', () => {
    const claims = new DeliveryClaims();
    expect(claims.claim('d-1', 1_000, 0, 1)).toBe(true);
    claims.settle('d-1', 1, 100);
    expect(claims.isClaimed('d-1', 100)).toBe(false);
    expect(claims.isHeld({ deliveryId: 'd-1', attempt: 1 }, 100)).toBe(true);
    expect(claims.claim('d-1', 1_000, 100, 1)).toBe(false);
    // A retry or a redelivery has the next number.
    expect(claims.isHeld({ deliveryId: 'd-1', attempt: 2 }, 100)).toBe(false);
    expect(claims.isHeld({ deliveryId: 'd-1', attempt: 1 }, 100 + RECORDED_TTL_MS)).toBe(false);
  });

  it('forgets recorded attempts once they are old', () => {
    const claims = new DeliveryClaims();
    claims.settle('d-1', 1, 0);
    claims.settle('d-2', 1, RECORDED_TTL_MS + 1);
    expect(claims.isHeld({ deliveryId: 'd-1', attempt: 1 }, RECORDED_TTL_MS + 1)).toBe(false);
    expect(claims.isHeld({ deliveryId: 'd-2', attempt: 1 }, RECORDED_TTL_MS + 1)).toBe(true);
  });
});
