import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import { runWithContext } from '../../cqrs/request-context';
import { deterministicUuid } from '../../contracts/ids';
import { SlaBreached, type SlaKind } from '../events/incident.events';
import { Incident, incidentStream, type IncidentState } from '../incident.aggregate';
import { AggregateStore, keyed, type KeyedEvent } from '../../cqrs/aggregate-store';
import { DueTimeScheduler } from '../../cqrs/due-time-scheduler';
import { dueMs, SLA_TARGETS, type SlaTargets } from './sla-targets';
import { SlaProjection } from './sla.projection';

/** While a due clock cannot be recorded yet (its incident's events are still on their way), look again this soon. */
const RETRY_MS = 1_000;

/**
 * SlaBreached for a clock that ran out, once: not when it already is breached, nor when it stopped in time.
 * The event id is derived from (incident, kind), so even two instances racing record one breach.
 */
export function decideSlaBreach(state: IncidentState, incidentId: string, kind: SlaKind, targets: SlaTargets, nowMs: number): (IEvent | KeyedEvent)[] {
  if (!state.exists || state.openedAt === null || state.slaBreaches.includes(kind)) return [];
  const due = dueMs(state.openedAt, state.severity, kind, targets);
  const stopped = kind === 'acknowledge' ? state.respondedAt : state.settledAt;
  if (nowMs < due || (stopped !== null && Date.parse(stopped) <= due)) return [];
  const breachedAt = stopped !== null ? due : nowMs;
  const event = new SlaBreached(incidentId, kind, state.severity, new Date(due).toISOString(), new Date(breachedAt).toISOString());
  return [keyed(event, deterministicUuid('sla-breach', incidentId, kind))];
}

/**
 * Records SLA breaches when their due time comes. Armed from the persisted due-time table (SlaProjection) at
 * start and re-armed whenever that table changes, so a restart loses no clock and the timer is never the
 * only copy of a due time.
 */
@Injectable()
export class SlaTimer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('SlaTimer');
  private readonly wake = new DueTimeScheduler(() => void this.check());
  private checking?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly clocks: SlaProjection,
    private readonly aggregates: AggregateStore,
    @Inject(SLA_TARGETS) private readonly targets: SlaTargets,
  ) {
    clocks.changes.subscribe(() => this.arm(Date.now()));
  }

  onApplicationBootstrap(): void {
    this.arm(this.clocks.nextDueMs() ?? Infinity);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.wake.stop();
    await this.checking;
  }

  /** Keeps the earliest wake-up: a later one never replaces an earlier one. */
  private arm(atMs: number): void {
    this.wake.wakeAt(atMs);
  }

  private async check(): Promise<void> {
    if (this.checking) {
      // A check is running: look again right after it, for what changed meanwhile.
      await this.checking;
      return this.arm(Date.now());
    }
    this.checking = this.recordDue().finally(() => (this.checking = undefined));
    await this.checking;
  }

  private async recordDue(): Promise<void> {
    const now = Date.now();
    for (const clock of this.clocks.due(now)) {
      if (this.stopped) return;
      try {
        await runWithContext({ correlationId: clock.incident_id, causationId: clock.incident_id, actor: 'system:sla' }, () =>
          this.aggregates.execute(incidentStream(clock.incident_id), Incident, (state) =>
            decideSlaBreach(state, clock.incident_id, clock.kind, this.targets, Date.now()),
          ),
        );
      } catch (error) {
        this.logger.error(`Recording the ${clock.kind} SLA breach of incident ${clock.incident_id} failed: ${String(error)}`);
      }
    }
    const next = this.clocks.nextDueMs();
    // Still due: its breach is recorded but not projected yet (or recording failed); the projection re-arms
    // us when it catches up, and this retry covers a failure.
    if (next !== null) this.arm(next <= now ? Date.now() + RETRY_MS : next);
  }
}
