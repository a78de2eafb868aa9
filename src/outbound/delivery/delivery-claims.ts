import { Injectable } from '@nestjs/common';

/**
 * How long an attempt's outcome is remembered after it was recorded, for the deliveries projection to
 * reflect it in the due-work table. It normally takes a few milliseconds; should it take longer, the job is
 * offered again and the attempt's own check of the delivery stream finds it stale (nothing is sent twice).
 */
export const RECORDED_TTL_MS = 10_000;

/**
 * In-process claims on deliveries: whichever runner claims a delivery first is the only one in this
 * process to attempt it until it releases the claim. Every worker and queue of the process shares the one
 * instance (a Nest singleton), which is what keeps two embedded workers off the same delivery. A claim
 * expires after `leaseMs`, so a runner that somehow never releases cannot block a delivery forever.
 *
 * A runner that has recorded an attempt settles its claim instead of releasing it: the delivery's attempts
 * up to that one stay held until the due-work table reflects what was recorded, which the runner no longer
 * waits for. Before this, every successful attempt held its concurrency slot until the deliveries projection
 * had caught up (ReadSideRunner.catchUp: a waiter woken, and re-armed with a timer, on every event the
 * projection handles); the profile of bench/outbound.bench.ts showed those slots idle and the waiters' churn.
 * A later attempt of the same delivery (a retry, a redelivery) has a higher number and is not held.
 */
@Injectable()
export class DeliveryClaims {
  private readonly claims = new Map<string, number>();
  /** Delivery id → the attempt recorded last and until when it is remembered; in insertion (= expiry) order. */
  private readonly recorded = new Map<string, { attempt: number; until: number }>();

  claim(deliveryId: string, leaseMs: number, now = Date.now(), attempt?: number): boolean {
    if (attempt !== undefined && this.isRecorded(deliveryId, attempt, now)) return false;
    const until = this.claims.get(deliveryId);
    if (until !== undefined && until > now) return false;
    this.claims.set(deliveryId, now + leaseMs);
    return true;
  }

  release(deliveryId: string): void {
    this.claims.delete(deliveryId);
  }

  /** Releases the claim, and holds attempts up to `attempt` (just recorded) for RECORDED_TTL_MS. */
  settle(deliveryId: string, attempt: number, now = Date.now()): void {
    this.claims.delete(deliveryId);
    this.recorded.delete(deliveryId);
    this.recorded.set(deliveryId, { attempt, until: now + RECORDED_TTL_MS });
    // Every entry lives equally long, so the oldest come first: expired ones are dropped from the front.
    for (const [id, entry] of this.recorded) {
      if (entry.until > now) break;
      this.recorded.delete(id);
    }
  }

  isClaimed(deliveryId: string, now = Date.now()): boolean {
    const until = this.claims.get(deliveryId);
    return until !== undefined && until > now;
  }

  /** Whether a job must not be offered now: its delivery is claimed, or this attempt was just recorded. */
  isHeld(job: { deliveryId: string; attempt: number }, now = Date.now()): boolean {
    return this.isClaimed(job.deliveryId, now) || this.isRecorded(job.deliveryId, job.attempt, now);
  }

  private isRecorded(deliveryId: string, attempt: number, now: number): boolean {
    const entry = this.recorded.get(deliveryId);
    return entry !== undefined && entry.until > now && attempt <= entry.attempt;
  }
}
