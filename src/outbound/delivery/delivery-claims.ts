import { Injectable } from '@nestjs/common';

/**
 * In-process claims on deliveries: whichever runner claims a delivery first is the only one in this
 * process to attempt it until it releases the claim. Every worker and queue of the process shares the one
 * instance (a Nest singleton), which is what keeps two embedded workers off the same delivery. A claim
 * expires after `leaseMs`, so a runner that somehow never releases cannot block a delivery forever.
 */
@Injectable()
export class DeliveryClaims {
  private readonly claims = new Map<string, number>();

  claim(deliveryId: string, leaseMs: number, now = Date.now()): boolean {
    const until = this.claims.get(deliveryId);
    if (until !== undefined && until > now) return false;
    this.claims.set(deliveryId, now + leaseMs);
    return true;
  }

  release(deliveryId: string): void {
    this.claims.delete(deliveryId);
  }

  isClaimed(deliveryId: string, now = Date.now()): boolean {
    const until = this.claims.get(deliveryId);
    return until !== undefined && until > now;
  }
}
