import { Logger } from '@nestjs/common';
import { DueTimeScheduler } from '../../cqrs/due-time-scheduler';
import type { DeliveriesProjection } from '../projections/deliveries.projection';
import type { DeliveryClaims } from './delivery-claims';
import type { DeliveryJob, DeliveryQueue, DeliveryRunner } from './delivery-queue.port';
import { fairShare, type Candidate, type ShareLimits } from './fair-share';

/**
 * Claimed, just recorded and paused jobs are skipped, so a webhook's jobs are fetched a few more than it may
 * take, and more (twice as many each time) only while everything fetched was skipped.
 */
const SKIPPED_SLACK = 8;
/** A job whose run failed (the store was unavailable, say) is left alone this long before it is offered again. */
const FAILED_RUN_PAUSE_MS = 5_000;
/** A job deferred because this instance's read model does not know its webhook yet is offered again this soon. */
const DEFERRED_PAUSE_MS = 1_000;
/** Dead-lettered per pass at most, when many rounds ran past their deadline at once. */
const EXPIRED_BATCH = 100;
/**
 * The longest the queue sleeps even when nothing it knows of comes due. Every due time it acts on is in the
 * read model and wakes it (new work, a settled job, the next due time, a circuit, a rate slot, a deadline);
 * this only bounds what a wake-up it did not foresee could cost. A pass is a few indexed reads, no write.
 */
const IDLE_PASS_MS = 5_000;

export interface QueueSettings {
  limits: ShareLimits;
  /** TW_DELIVERY_DEADLINE: a round still due this long after it started is dead-lettered. */
  deadlineMs: number;
}

/**
 * The delivery queue, the same on both stores: this instance's deliveries read model is the due work, and a
 * wake-up at the next due time (DueTimeScheduler) looks at it. Nothing is written while deliveries wait — the
 * persistent-subscription queue it replaces parked and re-parked every job that was not due yet (thousands of
 * writes an hour for one dead endpoint) and replayed them up to a minute late.
 *
 * Each pass gives the free attempt slots out by the fair-share rule (fair-share.ts): per endpoint its lane,
 * per organisation less than the whole, each slot to whoever holds fewest. Two runners of this process never
 * take one delivery (DeliveryClaims); two instances on one EventStoreDB may both find it due, and the claim
 * each appends at the revision it read decides (DeliveryAttempts): one attempts, the other skips.
 */
export class ScheduledDeliveryQueue implements DeliveryQueue {
  private readonly logger = new Logger(ScheduledDeliveryQueue.name);
  private readonly running = new Set<Promise<void>>();
  /** Delivery id → until when it is not offered (its run failed, or it was deferred). */
  private readonly paused = new Map<string, number>();
  private readonly scheduler = new DueTimeScheduler(() => this.pass());
  private runner?: DeliveryRunner;
  private woken?: NodeJS.Immediate;
  private unsubscribe?: () => void;
  private stopped = false;
  private turn = 0;

  constructor(
    private readonly deliveries: DeliveriesProjection,
    private readonly claims: DeliveryClaims,
    private readonly settings: QueueSettings,
  ) {}

  start(runner: DeliveryRunner): void {
    this.runner = runner;
    const offDue = this.deliveries.due.subscribe(() => this.wake());
    const offRoom = runner.onRoom?.(() => this.wake());
    this.unsubscribe = () => {
      offDue();
      offRoom?.();
    };
    this.wake();
  }

  /** A pass at the end of this turn of the event loop, however often it is woken meanwhile. */
  wake(): void {
    if (this.stopped || !this.runner || this.woken) return;
    this.woken = setImmediate(() => {
      this.woken = undefined;
      this.pass();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.scheduler.stop();
    clearImmediate(this.woken);
    this.unsubscribe?.();
    await Promise.all([...this.running]);
  }

  private pass(): void {
    if (this.stopped) return;
    const runner = this.runner!;
    const now = Date.now();
    let next = now + IDLE_PASS_MS;
    try {
      // One indexed min() per pass; the expired rows are looked for only when there are some.
      const round = this.deliveries.earliestRoundStart();
      if (round !== null && round + this.settings.deadlineMs <= now) {
        for (const job of this.deliveries.expiredJobs(now - this.settings.deadlineMs, EXPIRED_BATCH)) {
          if (!this.offerable(job, now)) continue;
          this.track(job, runner.expire(job).then(() => undefined));
        }
      }
      const candidates: Candidate[] = [];
      const ready = new Map<string, DeliveryJob[]>();
      for (const { webhookId, organisationId } of this.deliveries.dueWebhooks(now)) {
        const allowance = runner.allowance(webhookId, now);
        if (allowance.until !== null) next = Math.min(next, allowance.until);
        if (allowance.count <= 0) continue;
        const jobs = this.readyJobs(webhookId, now, Math.min(allowance.count, this.settings.limits.endpointConcurrency));
        if (jobs.length === 0) continue;
        ready.set(webhookId, jobs);
        candidates.push({ webhookId, organisationId, ready: jobs.length, allowance: allowance.count });
      }
      for (const webhookId of fairShare(candidates, runner.load(), this.settings.limits, this.turn++)) {
        this.launch(runner, ready.get(webhookId)!.shift()!);
      }
      const due = this.deliveries.nextDueAt();
      if (due !== null && due > now) next = Math.min(next, due);
      if (round !== null) next = Math.min(next, Math.max(now + 1, round + this.settings.deadlineMs));
    } catch (error) {
      this.logger.error(`Looking for due deliveries failed: ${(error as Error).stack ?? String(error)}`);
      next = now + FAILED_RUN_PAUSE_MS;
    }
    for (const [deliveryId, until] of this.paused) {
      if (until <= now) this.paused.delete(deliveryId);
      else next = Math.min(next, until);
    }
    this.scheduler.wakeAt(next);
  }

  private offerable(job: DeliveryJob, now: number): boolean {
    return !this.claims.isHeld(job, now) && (this.paused.get(job.deliveryId) ?? 0) <= now;
  }

  /** Up to `want` of the webhook's due jobs that no runner holds, earliest first. */
  private readyJobs(webhookId: string, now: number, want: number): DeliveryJob[] {
    const ready: DeliveryJob[] = [];
    for (let limit = want + SKIPPED_SLACK, seen = 0; ; seen = limit, limit *= 2) {
      const jobs = this.deliveries.dueJobs(webhookId, now, limit);
      for (const job of jobs.slice(seen)) {
        if (this.offerable(job, now)) ready.push(job);
        if (ready.length >= want) return ready;
      }
      if (jobs.length < limit) return ready;
    }
  }

  private launch(runner: DeliveryRunner, job: DeliveryJob): void {
    this.paused.delete(job.deliveryId);
    this.track(
      job,
      runner.run(job).then((outcome) => {
        if (outcome === 'deferred') this.paused.set(job.deliveryId, Date.now() + DEFERRED_PAUSE_MS);
      }),
    );
  }

  /** A failure is logged by the runner; the job stays due in the table and is offered again after a pause. */
  private track(job: DeliveryJob, work: Promise<void>): void {
    const run: Promise<void> = work
      .catch(() => void this.paused.set(job.deliveryId, Date.now() + FAILED_RUN_PAUSE_MS))
      .finally(() => {
        this.running.delete(run);
        this.wake();
      });
    this.running.add(run);
  }
}
