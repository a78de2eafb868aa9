import { Logger } from '@nestjs/common';
import type { DeliveriesProjection } from '../projections/deliveries.projection';
import type { DeliveryClaims } from './delivery-claims';
import type { DeliveryQueue, DeliveryRunner } from './delivery-queue.port';

/** How often due work is looked for when nothing wakes the queue sooner. */
const POLL_MS = 250;
/** Claimed jobs are skipped; fetching a few more than there is room for keeps the room filled. */
const CLAIMED_SLACK = 32;
/** A job whose run failed (the store was unavailable, say) is left alone this long before it is offered again. */
const FAILED_RUN_PAUSE_MS = 5_000;

/**
 * The embedded store's queue: the due work is the deliveries projection's table (rebuilt from the delivery
 * streams, so nothing is in memory only), and the process's DeliveryClaims keep two runners off one
 * delivery. Each pass takes every webhook with due work in turn, and only as many of its jobs as the runner
 * has room for — so a webhook whose lane is full or whose circuit is open is passed over without holding
 * anything up, and a flood to one webhook cannot starve the others. It wakes when the projection records
 * new due work, when a job settles, at the next due time, and at least every POLL_MS.
 */
export class EmbeddedDeliveryQueue implements DeliveryQueue {
  private readonly logger = new Logger(EmbeddedDeliveryQueue.name);
  private readonly running = new Set<Promise<void>>();
  private readonly paused = new Map<string, number>();
  private runner?: DeliveryRunner;
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private stopped = false;

  constructor(
    private readonly deliveries: DeliveriesProjection,
    private readonly claims: DeliveryClaims,
  ) {}

  start(runner: DeliveryRunner): void {
    this.runner = runner;
    this.unsubscribe = this.deliveries.onDue(() => this.wake());
    this.wake();
  }

  wake(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    await Promise.all([...this.running]);
  }

  private schedule(delayMs: number): void {
    if (this.stopped || !this.runner) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pass(), delayMs);
  }

  private pass(): void {
    const runner = this.runner!;
    const now = Date.now();
    try {
      for (const webhookId of this.deliveries.dueWebhooks(now)) {
        let room = runner.capacity(webhookId);
        if (room <= 0) continue;
        for (const job of this.deliveries.dueJobs(webhookId, now, room + CLAIMED_SLACK)) {
          if (room <= 0) break;
          if (this.claims.isClaimed(job.deliveryId) || (this.paused.get(job.deliveryId) ?? 0) > now) continue;
          this.paused.delete(job.deliveryId);
          room -= 1;
          // A failure is logged by the runner; the job stays due in the table and is offered again later.
          const run: Promise<void> = runner
            .run(job)
            .then(
              () => undefined,
              () => void this.paused.set(job.deliveryId, Date.now() + FAILED_RUN_PAUSE_MS),
            )
            .finally(() => {
              this.running.delete(run);
              this.wake();
            });
          this.running.add(run);
        }
      }
    } catch (error) {
      this.logger.error(`Looking for due deliveries failed: ${(error as Error).stack ?? String(error)}`);
    }
    const next = this.deliveries.nextDueAt();
    this.schedule(next === null || next <= now ? POLL_MS : Math.min(next - now, POLL_MS));
  }
}
