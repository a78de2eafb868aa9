/**
 * Where the delivery worker gets its work. A job is one due attempt of one delivery; the queue hands each
 * job to one runner at a time — within the process (embedded adapter: in-process claims) and, on a shared
 * EventStoreDB, across instances (persistent subscription: competing consumers). Jobs are always derived
 * from stored events (DeliveryScheduled, DeliveryRetryScheduled, DeliveryRedeliveryRequested), never held
 * only in memory, so a restart loses none.
 */
export const DELIVERY_QUEUE = Symbol('DELIVERY_QUEUE');

export interface DeliveryJob {
  deliveryId: string;
  webhookId: string;
  /** The attempt this job makes: the runner acts only while it is still the delivery's due attempt. */
  attempt: number;
  /** Epoch ms. */
  dueAt: number;
}

export interface DeliveryRunner {
  /**
   * How many more jobs for this webhook the runner would start now: 0 while the webhook's circuit is open,
   * its lane is full, or the runner is at its overall limit. A queue offers jobs only within it, so one
   * slow or dead endpoint never holds the jobs of the others.
   */
  capacity(webhookId: string): number;
  /**
   * Makes the attempt and records it. Resolves with what became of the job; rejects when the attempt could
   * not be recorded (the job is still due, and must be offered again).
   */
  run(job: DeliveryJob): Promise<RunOutcome>;
  /**
   * Calls `listener` whenever room opens up before a run settles (an attempt was answered and only its
   * recording is left), so a queue can offer more at once. Returns the unsubscribe.
   */
  onRoom?(listener: () => void): () => void;
}

/**
 * recorded: attempted and recorded. stale: no longer the delivery's due attempt (done, moved on, or not due
 * yet), nothing sent. busy: another runner of this process holds the delivery. aborted: cut short by
 * shutdown before an answer came, nothing recorded — still due.
 */
export type RunOutcome = 'recorded' | 'stale' | 'busy' | 'aborted';

export interface DeliveryQueue {
  start(runner: DeliveryRunner): void;
  /** Stops offering jobs; resolves once the jobs it handed out have settled. */
  stop(): Promise<void>;
  /** A hint that new work may be due now (the embedded queue polls otherwise). */
  wake(): void;
}
