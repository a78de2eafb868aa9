import type { Load } from './fair-share';

/**
 * Where the delivery worker gets its work. A job is one due attempt of one delivery, read from this
 * instance's deliveries read model (derived from DeliveryScheduled, DeliveryRetryScheduled and
 * DeliveryRedeliveryRequested, never held only in memory, so a restart loses none). Within the process the
 * DeliveryClaims keep two runners off one delivery; across instances on a shared store each attempt is
 * claimed by an expected-revision append to the delivery stream (DeliveryAttemptClaimed), so of two
 * instances that both find it due exactly one makes it.
 */
export const DELIVERY_QUEUE = Symbol('DELIVERY_QUEUE');

export interface DeliveryJob {
  deliveryId: string;
  organisationId: string;
  webhookId: string;
  /** The attempt this job makes: the runner acts only while it is still the delivery's due attempt. */
  attempt: number;
  /** Epoch ms. */
  dueAt: number;
}

export interface Allowance {
  /** More attempts to this webhook that may start now (circuit, rate limit, back-pressure, its lane). */
  count: number;
  /** When the count may grow without anything settling (circuit half-open, next rate slot, pause over); null: only when something settles. */
  until: number | null;
}

export interface DeliveryRunner {
  /** What one webhook may take now; a queue offers jobs only within it. */
  allowance(webhookId: string, now: number): Allowance;
  /** Attempts in flight, in all, per organisation and per webhook (fair-share.ts shares the rest out). */
  load(): Load;
  /**
   * Makes the attempt and records it. Resolves with what became of the job; rejects when the attempt could
   * not be recorded (the job is still due, and must be offered again).
   */
  run(job: DeliveryJob): Promise<RunOutcome>;
  /** Dead-letters a job whose round's deadline has passed (no request is sent). */
  expire(job: DeliveryJob): Promise<void>;
  /**
   * Calls `listener` whenever room opens up before a run settles (an attempt was answered and only its
   * recording is left), so a queue can offer more at once. Returns the unsubscribe.
   */
  onRoom?(listener: () => void): () => void;
}

/**
 * recorded: attempted and recorded. stale: no longer the delivery's due attempt (done, moved on, or not due
 * yet), nothing sent. busy: another runner (of this process, or another instance by its claim) holds the
 * delivery. aborted: cut short by shutdown before an answer came, nothing recorded — still due. deferred:
 * not attempted now (its webhook is unknown to this instance's read model yet), offered again shortly.
 */
export type RunOutcome = 'recorded' | 'stale' | 'busy' | 'aborted' | 'deferred';

export interface DeliveryQueue {
  start(runner: DeliveryRunner): void;
  /** Stops offering jobs; resolves once the jobs it handed out have settled. */
  stop(): Promise<void>;
  /** A hint that new work may be due now. */
  wake(): void;
}
