import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { runWithContext } from '../../cqrs/request-context';
import { DeliveriesProjection } from '../projections/deliveries.projection';
import { allowance, circuitOf, type BreakerSettings } from './circuit-breaker';
import { DeliveryAttempts } from './delivery-attempts';
import { DeliveryClaims } from './delivery-claims';
import { DELIVERY_QUEUE, type DeliveryJob, type DeliveryQueue, type DeliveryRunner, type RunOutcome } from './delivery-queue.port';
import { WebhookHttpClient } from './webhook-http.client';

export interface WorkerSettings {
  concurrency: number;
  endpointConcurrency: number;
  breaker: BreakerSettings;
  /** How long a claim holds without being released (longer than any attempt). */
  leaseMs: number;
  /** On shutdown, in-flight attempts get this long to finish before they are aborted (and redone later). */
  shutdownGraceMs: number;
}

/**
 * Runs delivery jobs with bounded concurrency: at most `concurrency` in flight (attempts still being recorded
 * included), at most `endpointConcurrency` requests to any one webhook, and none to a webhook whose circuit is
 * open. A job is attempted only by the runner that claims its delivery (DeliveryClaims, shared by every worker
 * of the process).
 */
export class DeliveryWorker implements DeliveryRunner {
  private readonly logger = new Logger(DeliveryWorker.name);
  private readonly lanes = new Map<string, number>();
  private readonly controllers = new Set<AbortController>();
  private readonly roomListeners = new Set<() => void>();
  private total = 0;
  private stopping = false;
  private drained?: () => void;

  constructor(
    private readonly attempts: DeliveryAttempts,
    private readonly deliveries: DeliveriesProjection,
    private readonly claims: DeliveryClaims,
    private readonly settings: WorkerSettings,
  ) {}

  capacity(webhookId: string): number {
    if (this.stopping) return 0;
    const circuit = circuitOf(this.deliveries.streak(webhookId), this.settings.breaker, Date.now());
    return Math.min(this.settings.concurrency - this.total, allowance(circuit, this.lanes.get(webhookId) ?? 0, this.settings.endpointConcurrency));
  }

  onRoom(listener: () => void): () => void {
    this.roomListeners.add(listener);
    return () => this.roomListeners.delete(listener);
  }

  /**
   * Counts itself in flight before its first await, so a queue asking capacity() right after sees it.
   *
   * The webhook's lane is the requests in flight to it, so a successful answer gives the lane back at once,
   * while the attempt is still being recorded: that append waits for a commit and its sync to disk, and
   * holding the lane through it kept the endpoint idle meanwhile (bench/outbound.bench.ts: the process sat
   * idle waiting on those syncs once the store made them off the event loop). The recording still counts
   * towards the overall limit, so unrecorded attempts stay bounded, and the claim holds the delivery until it
   * is recorded. A failed answer keeps the lane until the failure shows in the webhook's health (see
   * DeliveryAttempts): the circuit must see it before anything else goes to the webhook.
   */
  run(job: DeliveryJob): Promise<RunOutcome> {
    if (this.stopping) return Promise.resolve('aborted');
    if (!this.claims.claim(job.deliveryId, this.settings.leaseMs, Date.now(), job.attempt)) return Promise.resolve('busy');
    const controller = new AbortController();
    this.controllers.add(controller);
    this.total += 1;
    this.lanes.set(job.webhookId, (this.lanes.get(job.webhookId) ?? 0) + 1);
    let inLane = true;
    const leaveLane = () => {
      if (!inLane) return;
      inLane = false;
      const left = (this.lanes.get(job.webhookId) ?? 1) - 1;
      if (left === 0) this.lanes.delete(job.webhookId);
      else this.lanes.set(job.webhookId, left);
    };
    const answered = () => {
      leaveLane();
      this.roomListeners.forEach((listener) => listener());
    };
    // The events an attempt writes name the worker as their actor and the delivery as their correlation.
    const context = { correlationId: job.deliveryId, causationId: job.deliveryId, actor: 'system:delivery-worker' };
    let attempted = false;
    return runWithContext(context, () => this.attempts.attempt(job, controller.signal, answered))
      .then(
        (result) => {
          attempted = result.attempted;
          return result.outcome;
        },
        (error: unknown) => {
          this.logger.error(`Delivery ${job.deliveryId} attempt ${job.attempt} could not be completed: ${(error as Error).stack ?? String(error)}`);
          throw error;
        },
      )
      .finally(() => {
        // A recorded attempt stays held until the due-work table shows it (see DeliveryClaims.settle).
        if (attempted) this.claims.settle(job.deliveryId, job.attempt);
        else this.claims.release(job.deliveryId);
        this.controllers.delete(controller);
        this.total -= 1;
        leaveLane();
        if (this.total === 0) this.drained?.();
      });
  }

  /** Takes no new jobs; lets in-flight attempts finish within the grace period, then aborts the rest. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.total === 0) return;
    const drained = new Promise<void>((resolve) => (this.drained = resolve));
    const grace = setTimeout(() => this.controllers.forEach((c) => c.abort()), this.settings.shutdownGraceMs);
    await drained;
    clearTimeout(grace);
  }
}

/** Starts the process's delivery worker on the configured queue, and stops both before the store closes. */
@Injectable()
export class DeliveryWorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly worker: DeliveryWorker;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(DELIVERY_QUEUE) private readonly queue: DeliveryQueue,
    private readonly http: WebhookHttpClient,
    attempts: DeliveryAttempts,
    deliveries: DeliveriesProjection,
    claims: DeliveryClaims,
  ) {
    this.worker = new DeliveryWorker(attempts, deliveries, claims, workerSettings(config));
  }

  onApplicationBootstrap(): void {
    this.queue.start(this.worker);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([this.queue.stop(), this.worker.stop()]);
    await this.http.close();
  }
}

export function workerSettings(config: AppConfig): WorkerSettings {
  const o = config.outbound;
  return {
    concurrency: o.concurrency,
    endpointConcurrency: o.endpointConcurrency,
    breaker: { threshold: o.breakerThreshold, cooldownMs: o.breakerCooldownMs },
    leaseMs: o.timeoutMs + 60_000,
    shutdownGraceMs: Math.min(o.timeoutMs, 3_000),
  };
}
