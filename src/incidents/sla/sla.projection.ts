import { Inject, Injectable } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { StatementSync } from 'node:sqlite';
import { TableChanges } from '../../cqrs/table-changes';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import type { Severity } from '../../contracts/alert';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';
import {
  AlertAttached,
  IncidentAcknowledged,
  IncidentClosed,
  IncidentOpened,
  IncidentResolutionFailed,
  IncidentResolved,
  IncidentSeverityChanged,
  SlaBreached,
  type SlaKind,
} from '../events/incident.events';
import { maxSeverity } from '../incident.aggregate';
import { dueMs, SLA_TARGETS, type SlaTargets } from './sla-targets';

export const SLA_PROJECTION = 'incident-sla';

export interface SlaClockView {
  target_seconds: number;
  due_at: string;
  /** When the clock stopped in time (null while it runs, or when it stopped after the due time). */
  met_at: string | null;
  breached: boolean;
  breached_at: string | null;
}

export interface SlaView {
  acknowledge: SlaClockView;
  resolve: SlaClockView;
}

export interface DueClock {
  incident_id: string;
  kind: SlaKind;
  due_ms: number;
}

interface SlaRow {
  incident_id: string;
  severity: Severity;
  opened_at: string;
  responded_ms: number | null;
  settled_ms: number | null;
  acknowledge_due_ms: number;
  resolve_due_ms: number;
  acknowledge_breached_at: string | null;
  resolve_breached_at: string | null;
}

/**
 * The SLA clocks of every incident: the persisted due-time table the SLA timer is armed from (on start
 * too: it never lives only in memory). Due times follow the severity (an attached alert or triage may change
 * it); a clock stops at the first response (acknowledge) or settlement (resolve), and a SlaBreached event
 * marks it breached. A clock is due while it is unbreached and did not stop in time — so a response that
 * came late while Towline was down is still recorded as a breach. Every update is idempotent.
 */
@StoreConsumer({
  name: SLA_PROJECTION,
  tables: ['incident_sla'],
  queryIndexes: ['incident_sla_acknowledge_due', 'incident_sla_resolve_due'],
  events: [
    IncidentOpened,
    AlertAttached,
    IncidentSeverityChanged,
    IncidentAcknowledged,
    IncidentResolved,
    IncidentResolutionFailed,
    IncidentClosed,
    SlaBreached,
  ],
})
@Injectable()
export class SlaProjection implements StoreConsumerHandler {
  /** Notified after every change, so the timer can re-arm for the next due clock. */
  readonly changes = new TableChanges();
  private readonly sql: Record<string, StatementSync>;

  constructor(
    @Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase,
    @Inject(SLA_TARGETS) private readonly targets: SlaTargets,
  ) {
    const db = readModels.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS incident_sla (
        incident_id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL, source TEXT NOT NULL, severity TEXT NOT NULL,
        opened_at TEXT NOT NULL, responded_ms INTEGER, settled_ms INTEGER,
        acknowledge_due_ms INTEGER NOT NULL, resolve_due_ms INTEGER NOT NULL,
        acknowledge_breached_at TEXT, resolve_breached_at TEXT
      );
      CREATE INDEX IF NOT EXISTS incident_sla_acknowledge_due ON incident_sla (acknowledge_due_ms) WHERE acknowledge_breached_at IS NULL;
      CREATE INDEX IF NOT EXISTS incident_sla_resolve_due ON incident_sla (resolve_due_ms) WHERE resolve_breached_at IS NULL;
    `);
    this.sql = {
      open: db.prepare(
        'INSERT OR IGNORE INTO incident_sla (incident_id, organisation_id, source, severity, opened_at, acknowledge_due_ms, resolve_due_ms) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      get: db.prepare('SELECT * FROM incident_sla WHERE incident_id = ?'),
      severity: db.prepare('UPDATE incident_sla SET severity = ?, acknowledge_due_ms = ?, resolve_due_ms = ? WHERE incident_id = ?'),
      responded: db.prepare('UPDATE incident_sla SET responded_ms = coalesce(responded_ms, ?) WHERE incident_id = ?'),
      settled: db.prepare(
        'UPDATE incident_sla SET responded_ms = coalesce(responded_ms, ?1), settled_ms = coalesce(settled_ms, ?1) WHERE incident_id = ?2',
      ),
      acknowledgeBreached: db.prepare('UPDATE incident_sla SET acknowledge_breached_at = coalesce(acknowledge_breached_at, ?) WHERE incident_id = ?'),
      resolveBreached: db.prepare('UPDATE incident_sla SET resolve_breached_at = coalesce(resolve_breached_at, ?) WHERE incident_id = ?'),
      due: db.prepare(
        `SELECT incident_id, 'acknowledge' AS kind, acknowledge_due_ms AS due_ms FROM incident_sla
           WHERE acknowledge_breached_at IS NULL AND acknowledge_due_ms <= ?1 AND coalesce(responded_ms > acknowledge_due_ms, 1)
         UNION ALL
         SELECT incident_id, 'resolve' AS kind, resolve_due_ms AS due_ms FROM incident_sla
           WHERE resolve_breached_at IS NULL AND resolve_due_ms <= ?1 AND coalesce(settled_ms > resolve_due_ms, 1)
         ORDER BY due_ms LIMIT ?2`,
      ),
      next: db.prepare(
        `SELECT min(due) AS due FROM (
           SELECT min(acknowledge_due_ms) AS due FROM incident_sla
             WHERE acknowledge_breached_at IS NULL AND coalesce(responded_ms > acknowledge_due_ms, 1)
           UNION ALL
           SELECT min(resolve_due_ms) FROM incident_sla WHERE resolve_breached_at IS NULL AND coalesce(settled_ms > resolve_due_ms, 1))`,
      ),
      counts: db.prepare(
        `SELECT 'acknowledge' AS kind, severity, count(acknowledge_breached_at) AS breached,
                sum(responded_ms IS NULL AND acknowledge_breached_at IS NULL) AS running
           FROM incident_sla GROUP BY severity
         UNION ALL
         SELECT 'resolve', severity, count(resolve_breached_at), sum(settled_ms IS NULL AND resolve_breached_at IS NULL)
           FROM incident_sla GROUP BY severity`,
      ),
    };
  }

  handle(event: IEvent): void {
    if (event instanceof IncidentOpened) {
      this.sql.open.run(
        event.incidentId,
        event.organisationId,
        event.source,
        event.severity,
        event.openedAt,
        dueMs(event.openedAt, event.severity, 'acknowledge', this.targets),
        dueMs(event.openedAt, event.severity, 'resolve', this.targets),
      );
    } else if (event instanceof AlertAttached) {
      if (event.action !== 'trigger') return;
      const row = this.row(event.incidentId);
      if (row) this.setSeverity(row, maxSeverity(row.severity, event.alert.severity));
    } else if (event instanceof IncidentSeverityChanged) {
      const row = this.row(event.incidentId);
      if (row) this.setSeverity(row, event.to);
    } else if (event instanceof IncidentAcknowledged) {
      this.sql.responded.run(Date.parse(event.acknowledgedAt), event.incidentId);
    } else if (event instanceof IncidentResolutionFailed) {
      this.sql.responded.run(Date.parse(event.failedAt), event.incidentId);
    } else if (event instanceof IncidentResolved) {
      this.sql.settled.run(Date.parse(event.resolvedAt), event.incidentId);
    } else if (event instanceof IncidentClosed) {
      this.sql.settled.run(Date.parse(event.closedAt), event.incidentId);
    } else if (event instanceof SlaBreached) {
      (event.kind === 'acknowledge' ? this.sql.acknowledgeBreached : this.sql.resolveBreached).run(event.breachedAt, event.incidentId);
    }
    this.changes.notify();
  }

  sla(incidentId: string): SlaView | undefined {
    const row = this.row(incidentId);
    if (!row) return undefined;
    const clock = (kind: SlaKind, due: number, stoppedMs: number | null, breachedAt: string | null): SlaClockView => ({
      target_seconds: this.targets[row.severity][kind],
      due_at: new Date(due).toISOString(),
      met_at: stoppedMs !== null && stoppedMs <= due ? new Date(stoppedMs).toISOString() : null,
      breached: breachedAt !== null,
      breached_at: breachedAt,
    });
    return {
      acknowledge: clock('acknowledge', row.acknowledge_due_ms, row.responded_ms, row.acknowledge_breached_at),
      resolve: clock('resolve', row.resolve_due_ms, row.settled_ms, row.resolve_breached_at),
    };
  }

  /** Unbreached clocks whose due time has come and that did not stop in time, earliest first. */
  due(nowMs: number, limit = 100): DueClock[] {
    return this.sql.due.all(nowMs, limit) as unknown as DueClock[];
  }

  /** The earliest due time of any clock that may still be breached, or null when there is none. */
  nextDueMs(): number | null {
    return (this.sql.next.get() as { due: number | null }).due;
  }

  /** Per kind and severity: incidents whose clock was breached, and clocks still running. For the metrics. */
  counts(): { kind: SlaKind; severity: Severity; breached: number; running: number }[] {
    return this.sql.counts.all() as unknown as { kind: SlaKind; severity: Severity; breached: number; running: number }[];
  }

  private row(incidentId: string): SlaRow | undefined {
    return this.sql.get.get(incidentId) as SlaRow | undefined;
  }

  private setSeverity(row: SlaRow, severity: Severity): void {
    if (severity === row.severity) return;
    this.sql.severity.run(
      severity,
      dueMs(row.opened_at, severity, 'acknowledge', this.targets),
      dueMs(row.opened_at, severity, 'resolve', this.targets),
      row.incident_id,
    );
  }
}
