import { Logger } from '@nestjs/common';
import type { DeliveriesProjection } from '../projections/deliveries.projection';
import type { DeliveryClaims } from './delivery-claims';
import type { DeliveryQueue, DeliveryRunner } from './delivery-queue.port';

/** How often due work is looked for when nothing wakes the queue sooner. */
const POLL_MS = 250;
/**
 * Claimed, just recorded and paused jobs are skipped, so a pass fetches a few more than there is room for,
 * and more (twice as many each time) only while everything it fetched was skipped. It used to fetch 32 more
 * on every pass, and a pass runs each time work comes due or a job settles: building those rows was the
 * queue's largest cost in the profile of bench/outbound.bench.ts. A webhook has at most its lane in flight.
 */
const SKIPPED_SLACK = 8;
/** A job whose run failed (the store was unavailable, say) is left alone this long before it is offered again. */
const FAILED_RUN_PAUSE_MS = 5_000;

/**
 * The embedded store's queue: the due work is the deliveries projection's table (rebuilt from the delivery
 * streams, so nothing is in memory only), and the process's DeliveryClaims keep two runners off one
 * delivery. Each pass takes every webhook with due work in turn, and only as many of its jobs as the runner
 * has room for — so a webhook whose lane is full or whose circuit is open is passed over without holding
 * anything up, and a flood to one webhook cannot starve the others. It wakes when the projection records
 * new due work, when a job settles or the runner has room again, at the next due time, and at least every
 * POLL_MS.
 */
export class EmbeddedDeliveryQueue implements DeliveryQueue {
  private readonly logger = new Logger(EmbeddedDeliveryQueue.name);
  private readonly running = new Set<Promise<void>>();
  private readonly paused = new Map<string, number>();
  private runner?: DeliveryRunner;
  private timer?: NodeJS.Timeout;
  private woken?: NodeJS.Immediate;
  private unsubscribe?: () => void;
  private stopped = false;

  constructor(
    private readonly deliveries: DeliveriesProjection,
    private readonly claims: DeliveryClaims,
  ) {}

  start(runner: DeliveryRunner): void {
    this.runner = runner;
    const offDue = this.deliveries.onDue(() => this.wake());
    const offRoom = runner.onRoom?.(() => this.wake());
    this.unsubscribe = () => {
      offDue();
      offRoom?.();
    };
    this.wake();
  }

  /**
   * A pass at the end of this turn of the event loop, however often it is woken meanwhile. It used to be a
   * setTimeout(0), which waits a millisecond at least: every settled job left its slot empty that long, and
   * the profile of bench/outbound.bench.ts showed the process idle for a fifth of the run.
   */
  wake(): void {
    if (this.stopped || !this.runner || this.woken) return;
    this.woken = setImmediate(() => {
      this.woken = undefined;
      this.pass();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearImmediate(this.woken);
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
        for (let limit = room + SKIPPED_SLACK, offered = 0; room > 0; offered = limit, limit *= 2) {
          const jobs = this.deliveries.dueJobs(webhookId, now, limit);
          for (const job of jobs.slice(offered)) {
            if (room <= 0) break;
            if (this.claims.isHeld(job, now) || (this.paused.get(job.deliveryId) ?? 0) > now) continue;
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
          if (jobs.length < limit) break;
        }
      }
    } catch (error) {
      this.logger.error(`Looking for due deliveries failed: ${(error as Error).stack ?? String(error)}`);
    }
    const next = this.deliveries.nextDueAt();
    this.schedule(next === null || next <= now ? POLL_MS : Math.min(next - now, POLL_MS));
  }
}
