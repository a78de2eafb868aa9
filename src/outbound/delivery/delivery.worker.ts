import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { ReadSideRunner } from '../../cqrs/read-side.runner';
import { runWithContext } from '../../cqrs/request-context';
import { DELIVERIES_PROJECTION, DeliveriesProjection } from '../projections/deliveries.projection';
import { WEBHOOKS_PROJECTION, WebhooksProjection } from '../projections/webhooks.projection';
import { rateLimitOf } from '../webhook-rate-limit';
import { allowance, circuitOf, type BreakerSettings } from './circuit-breaker';
import { DeliveryAttempts } from './delivery-attempts';
import { DeliveryClaims } from './delivery-claims';
import { DELIVERY_QUEUE, type Allowance, type DeliveryJob, type DeliveryQueue, type DeliveryRunner, type RunOutcome } from './delivery-queue.port';
import type { Load } from './fair-share';
import { WebhookHttpClient } from './webhook-http.client';

export interface WorkerSettings {
  concurrency: number;
  endpointConcurrency: number;
  breaker: BreakerSettings;
  /** How long a claim holds without being released (longer than any attempt). */
  leaseMs: number;
  /** On shutdown, in-flight attempts get this long to finish before they are aborted (and recorded as interrupted). */
  shutdownGraceMs: number;
}

const bump = (counts: Map<string, number>, key: string, by: number) => {
  const value = (counts.get(key) ?? 0) + by;
  if (value <= 0) counts.delete(key);
  else counts.set(key, value);
};

/**
 * Runs delivery jobs: counts what is in flight (in all, per organisation, per webhook — the queue shares
 * slots out from that), says what each webhook may take now (its circuit, its rate limit, a receiver's
 * back-pressure, its lane), and makes the attempts. A job is attempted only by the runner that claims its
 * delivery (DeliveryClaims, shared by every worker of the process).
 */
export class DeliveryWorker implements DeliveryRunner {
  private readonly logger = new Logger(DeliveryWorker.name);
  private readonly lanes = new Map<string, number>();
  private readonly organisations = new Map<string, number>();
  /** Webhook id → when its rate limit lets the next attempt start (epoch ms); this instance's own pacing. */
  private readonly nextSlot = new Map<string, number>();
  private readonly intervals = new Map<string, { intervalMs: number; until: number }>();
  private readonly controllers = new Set<AbortController>();
  private readonly roomListeners = new Set<() => void>();
  private total = 0;
  private stopping = false;
  private drained?: () => void;

  constructor(
    private readonly attempts: DeliveryAttempts,
    private readonly deliveries: DeliveriesProjection,
    private readonly webhooks: WebhooksProjection,
    private readonly claims: DeliveryClaims,
    private readonly settings: WorkerSettings,
  ) {}

  load(): Load {
    return { total: this.total, byOrganisation: this.organisations, byWebhook: this.lanes };
  }

  allowance(webhookId: string, now: number): Allowance {
    if (this.stopping) return { count: 0, until: null };
    const streak = this.deliveries.streak(webhookId);
    if (streak.pausedUntil !== null && streak.pausedUntil > now) return { count: 0, until: streak.pausedUntil };
    const circuit = circuitOf(streak, this.settings.breaker, now);
    if (circuit.state === 'open') return { count: 0, until: circuit.until };
    const slot = this.nextSlot.get(webhookId);
    if (slot !== undefined && slot > now) return { count: 0, until: slot };
    if (slot !== undefined) this.nextSlot.delete(webhookId);
    const count = allowance(circuit, this.lanes.get(webhookId) ?? 0, this.settings.endpointConcurrency);
    // A paced webhook starts one attempt per slot: the next slot is set when it starts.
    return { count: this.intervalOf(webhookId, now) > 0 ? Math.min(count, 1) : count, until: null };
  }

  onRoom(listener: () => void): () => void {
    this.roomListeners.add(listener);
    return () => this.roomListeners.delete(listener);
  }

  /**
   * Counts itself in flight before its first await, so a queue asking allowance() right after sees it.
   *
   * The webhook's lane is the requests in flight to it, so a successful answer gives the lane back at once,
   * while the attempt is still being recorded (that append waits for a commit and its sync to disk). The
   * recording still counts towards the overall limit, so unrecorded attempts stay bounded, and the claim
   * holds the delivery until it is recorded. A failed answer keeps the lane until the failure shows in the
   * webhook's health (see DeliveryAttempts): the circuit must see it before anything else goes to the webhook.
   */
  run(job: DeliveryJob): Promise<RunOutcome> {
    if (this.stopping) return Promise.resolve('aborted');
    if (!this.claims.claim(job.deliveryId, this.settings.leaseMs, Date.now(), job.attempt)) return Promise.resolve('busy');
    const interval = this.intervalOf(job.webhookId);
    if (interval > 0) this.nextSlot.set(job.webhookId, Math.max(Date.now(), this.nextSlot.get(job.webhookId) ?? 0) + interval);
    const controller = new AbortController();
    this.controllers.add(controller);
    this.total += 1;
    bump(this.organisations, job.organisationId, 1);
    bump(this.lanes, job.webhookId, 1);
    let inLane = true;
    const leaveLane = () => {
      if (!inLane) return;
      inLane = false;
      bump(this.lanes, job.webhookId, -1);
      bump(this.organisations, job.organisationId, -1);
    };
    const answered = () => {
      leaveLane();
      this.roomListeners.forEach((listener) => listener());
    };
    let attempted = false;
    return runWithContext(contextOf(job), () => this.attempts.attempt(job, controller.signal, answered))
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

  /** Claims synchronously (so the same pass cannot also start the job), then dead-letters it. */
  expire(job: DeliveryJob): Promise<void> {
    if (this.stopping || !this.claims.claim(job.deliveryId, this.settings.leaseMs, Date.now(), job.attempt)) return Promise.resolve();
    return runWithContext(contextOf(job), () => this.attempts.expire(job)).finally(() => this.claims.release(job.deliveryId));
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

  /**
   * Milliseconds between attempt starts for the webhook (its rate_limit, or its format's default); 0: unpaced.
   * Read from the webhooks read model at most once a second per webhook: it was a query and a JSON parse on
   * every pass of the queue and every attempt, and a changed rate may well take a second to apply.
   */
  private intervalOf(webhookId: string, now = Date.now()): number {
    const cached = this.intervals.get(webhookId);
    if (cached && cached.until > now) return cached.intervalMs;
    const settings = this.webhooks.settingsOf(webhookId);
    const limit = settings ? rateLimitOf(settings) : null;
    const intervalMs = limit ? limit.intervalMs : 0;
    if (this.intervals.size >= INTERVALS_KEPT) this.intervals.clear();
    this.intervals.set(webhookId, { intervalMs, until: now + INTERVAL_TTL_MS });
    return intervalMs;
  }
}

const INTERVAL_TTL_MS = 1_000;
/** Webhooks whose pace is kept at once (10 per organisation): the map is simply emptied past it. */
const INTERVALS_KEPT = 10_000;

/** The events an attempt writes name the worker as their actor and the delivery as their correlation. */
const contextOf = (job: DeliveryJob) => ({ correlationId: job.deliveryId, causationId: job.deliveryId, actor: 'system:delivery-worker' });

/** How often the host looks whether the read models it needs have gone live. */
const LIVE_POLL_MS = 100;

/**
 * Starts the process's delivery worker on the queue once the read models it acts on are live, and stops both
 * before the store closes. Before they are live, the deliveries table does not show what is due and the
 * webhooks table may not know a webhook: a second instance starting on an empty data directory cancelled
 * live deliveries as `webhook_deleted` that way.
 */
@Injectable()
export class DeliveryWorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly worker: DeliveryWorker;
  private stopped = false;
  private started = false;
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(DELIVERY_QUEUE) private readonly queue: DeliveryQueue,
    private readonly http: WebhookHttpClient,
    private readonly readSide: ReadSideRunner,
    attempts: DeliveryAttempts,
    deliveries: DeliveriesProjection,
    webhooks: WebhooksProjection,
    claims: DeliveryClaims,
  ) {
    this.worker = new DeliveryWorker(attempts, deliveries, webhooks, claims, workerSettings(config));
  }

  onApplicationBootstrap(): void {
    this.startWhenLive();
  }

  /** Whether the queue is running (the read models it needs went live). */
  get running(): boolean {
    return this.started && !this.stopped;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.all([this.queue.stop(), this.worker.stop()]);
    await this.http.close();
  }

  private startWhenLive(): void {
    if (this.stopped) return;
    const needed = new Set([DELIVERIES_PROJECTION, WEBHOOKS_PROJECTION]);
    const live = this.readSide.status().filter((s) => needed.has(s.name) && s.state === 'live').length === needed.size;
    if (!live) {
      this.timer = setTimeout(() => this.startWhenLive(), LIVE_POLL_MS);
      return;
    }
    this.started = true;
    this.queue.start(this.worker);
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
