import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { DueTimeScheduler } from '../../cqrs/due-time-scheduler';
import { TriageRunsProjection } from '../projections/triage-runs.projection';
import { TriageRunner } from './triage-runner';

/** An incident the runner just left is not retried before its runs change (or this long, should that never come). */
const QUIET_MS = 10_000;
const BATCH = 100;

/**
 * Drives the triage runner from the persisted run table (TriageRunsProjection): at start — so runs cut off by
 * a crash or waiting for a retry resume — and whenever the table changes, with a timer armed for the next
 * retry's due time. Several incidents are triaged at once (TW_TRIAGE_CONCURRENCY), each one's runs in order;
 * a failure on one incident never holds up the others.
 */
@Injectable()
export class TriageWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('TriageWorker');
  private readonly inFlight = new Map<string, Promise<void>>();
  /**
   * Incidents the runner just left with nothing to do, by when it left them: until their runs change, a row
   * still due from before then is only the projection catching up with what the runner already did.
   */
  private readonly quiet = new Map<string, number>();
  /** Incidents whose runs changed while the runner was on them: they are looked at again straight away. */
  private readonly changed = new Set<string>();
  private readonly wake = new DueTimeScheduler(() => this.pump());
  private readonly concurrency: number;

  constructor(
    private readonly runs: TriageRunsProjection,
    private readonly runner: TriageRunner,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.concurrency = config.triageConcurrency;
    runs.changes.subscribe((incidentId) => {
      if (this.inFlight.has(incidentId)) this.changed.add(incidentId);
      else this.quiet.delete(incidentId);
      this.arm(Date.now());
    });
  }

  onApplicationBootstrap(): void {
    this.arm(Date.now());
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.wake.stop();
    this.runner.stop();
    await Promise.allSettled(this.inFlight.values());
  }

  private arm(atMs: number): void {
    this.wake.wakeAt(atMs);
  }

  private pump(): void {
    const now = Date.now();
    for (const [incidentId, left] of this.quiet) if (now >= left + QUIET_MS) this.quiet.delete(incidentId);
    let next = Infinity;
    for (const { incident_id: incidentId, due_ms: due } of this.runs.runnable(BATCH)) {
      if (this.inFlight.has(incidentId)) continue;
      const left = this.quiet.get(incidentId);
      if (left !== undefined && due <= left && now < left + QUIET_MS) {
        next = Math.min(next, left + QUIET_MS);
        continue;
      }
      if (due > now) {
        next = Math.min(next, due);
        continue;
      }
      // A free slot re-arms the pump when its incident is done.
      if (this.inFlight.size >= this.concurrency) break;
      this.start(incidentId);
    }
    if (next < Infinity) this.arm(next);
  }

  private start(incidentId: string): void {
    const work = this.runner
      .advance(incidentId)
      .catch((error: unknown) => this.logger.error(`Triage of incident ${incidentId} failed: ${(error as Error).stack ?? String(error)}`))
      .finally(() => {
        this.inFlight.delete(incidentId);
        if (!this.changed.delete(incidentId)) this.quiet.set(incidentId, Date.now());
        this.arm(Date.now());
      });
    this.inFlight.set(incidentId, work);
  }
}
