import { Inject, Injectable } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { StatementSync } from 'node:sqlite';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import type { NormalizedAlert, Severity } from '../../contracts/alert';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';
import { TriageCompleted, TriageSkipped, TriageStarted, type Verdict } from '../../triage/events/triage.events';
import {
  AlertAttached,
  IncidentAcknowledged,
  IncidentAssigned,
  IncidentClosed,
  IncidentLinked,
  IncidentNeedsManualTriage,
  IncidentOpened,
  IncidentReopened,
  IncidentResolutionFailed,
  IncidentResolutionVerified,
  IncidentResolved,
  IncidentSeverityChanged,
  type CloseReason,
  type IncidentStatus,
  type Resolution,
} from '../events/incident.events';
import { INCIDENT_NUMBER, maxSeverity } from '../incident.aggregate';

export const INCIDENTS_PROJECTION = 'incident-list';

export type TriageStatus = 'running' | 'completed' | 'needs_manual' | 'skipped';

export interface IncidentView {
  id: string;
  number: string;
  organisation_id: string;
  project_id: string | null;
  source: string;
  vendor_alert_id: string;
  title: string;
  severity: Severity;
  category: string | null;
  status: IncidentStatus;
  assignee: string | null;
  auto_triage: boolean;
  playbook: string | null;
  triage_status: TriageStatus | null;
  verdict: Verdict | null;
  triage_score: number | null;
  alert_count: number;
  regression_count: number;
  /** The group's size when triage folded other incidents (a campaign, duplicates) into this one; 1 otherwise. */
  related_count: number;
  duplicate_of: string | null;
  opened_at: string;
  last_seen_at: string;
  acknowledged_at: string | null;
  resolved_at: string | null;
  resolution: Resolution | null;
  verified_at: string | null;
  closed_at: string | null;
  close_reason: CloseReason | null;
  reopened_at: string | null;
}

/** An attached alert: its place in the received webhook, then its normalized fields (action among them). */
export type IncidentAlertView = {
  id: string;
  receipt_id: string;
  index: number;
  received_at: string;
} & NormalizedAlert;

export interface IncidentFilter {
  status?: IncidentStatus;
  severity?: Severity;
  source?: string;
  projectId?: string;
  assignee?: string;
  /** Opened at or after (ISO 8601 UTC). */
  since?: string;
  /** Opened before (ISO 8601 UTC). */
  until?: string;
  /** Strictly after this place in the order (newest first), from the previous page's last incident. */
  after?: IncidentCursor;
  limit: number;
}

/** A place in the list's order: opened_at, then the number's year and sequence, all descending. */
export type IncidentCursor = [openedAt: string, year: number, sequence: number];

interface IncidentRow extends Omit<IncidentView, 'auto_triage'> {
  auto_triage: number;
  year: number;
  sequence: number;
}

const COLUMNS =
  'id, number, organisation_id, project_id, source, vendor_alert_id, title, severity, category, status, assignee, auto_triage, ' +
  'playbook, triage_status, verdict, triage_score, alert_count, regression_count, related_count, duplicate_of, opened_at, ' +
  'last_seen_at, acknowledged_at, resolved_at, resolution, verified_at, closed_at, close_reason, reopened_at, year, sequence';

const toView = ({ year: _year, sequence: _sequence, ...row }: IncidentRow): IncidentView => ({ ...row, auto_triage: row.auto_triage === 1 });

function numberParts(number: string): [number, number] {
  const match = INCIDENT_NUMBER.exec(number);
  return match ? [Number(match[1]), Number(match[2])] : [0, 0];
}

/**
 * Incidents and their alerts, per organisation: the list, its filters and its cursor order. Counts and times
 * come from the events as absolute values, statuses are set (never toggled) and severity only changes as the
 * aggregate changes it, so replaying an event leaves the same row — and a rebuild from position zero gives
 * the live table (see rebuild.ts). The tables are versioned by name: a read-model file from an older build
 * rebuilds them from zero instead of reading rows of another shape.
 */
@StoreConsumer({
  name: INCIDENTS_PROJECTION,
  tables: ['incident_list', 'incident_list_alerts'],
  queryIndexes: ['incident_list_by_opening', 'incident_list_alerts_by_incident'],
  events: [
    IncidentOpened,
    AlertAttached,
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentSeverityChanged,
    IncidentResolved,
    IncidentResolutionVerified,
    IncidentResolutionFailed,
    IncidentClosed,
    IncidentReopened,
    IncidentNeedsManualTriage,
    IncidentLinked,
    TriageStarted,
    TriageCompleted,
    TriageSkipped,
  ],
})
@Injectable()
export class IncidentsProjection implements StoreConsumerHandler {
  private readonly sql: Record<string, StatementSync>;

  constructor(@Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase) {
    const db = readModels.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS incident_list (
        id TEXT PRIMARY KEY, number TEXT NOT NULL, organisation_id TEXT NOT NULL, project_id TEXT,
        source TEXT NOT NULL, vendor_alert_id TEXT NOT NULL, title TEXT NOT NULL, severity TEXT NOT NULL,
        category TEXT, status TEXT NOT NULL, assignee TEXT, auto_triage INTEGER NOT NULL, playbook TEXT,
        triage_status TEXT, verdict TEXT, triage_score INTEGER,
        alert_count INTEGER NOT NULL, regression_count INTEGER NOT NULL, related_count INTEGER NOT NULL, duplicate_of TEXT,
        opened_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, acknowledged_at TEXT, resolved_at TEXT, resolution TEXT,
        verified_at TEXT, closed_at TEXT, close_reason TEXT, reopened_at TEXT,
        -- The number's parts, so that INC-2026-10000 sorts after INC-2026-9999.
        year INTEGER NOT NULL, sequence INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX IF NOT EXISTS incident_list_by_number ON incident_list (organisation_id, number);
      CREATE INDEX IF NOT EXISTS incident_list_by_opening ON incident_list (organisation_id, opened_at DESC, year DESC, sequence DESC);
      CREATE TABLE IF NOT EXISTS incident_list_alerts (
        id TEXT PRIMARY KEY, incident_id TEXT NOT NULL, receipt_id TEXT NOT NULL, item_index INTEGER NOT NULL,
        action TEXT NOT NULL, received_at TEXT NOT NULL, alert TEXT NOT NULL, count INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS incident_list_alerts_by_incident ON incident_list_alerts (incident_id, count);
    `);
    const set = (assignments: string) => db.prepare(`UPDATE incident_list SET ${assignments} WHERE id = :id`);
    this.sql = {
      open: db.prepare(
        `INSERT OR IGNORE INTO incident_list (id, number, organisation_id, project_id, source, vendor_alert_id, title, severity, category,
           status, auto_triage, playbook, alert_count, regression_count, related_count, opened_at, last_seen_at, year, sequence)
         VALUES (:id, :number, :organisation, :project, :source, :vendor_alert_id, :title, :severity, :category,
           'open', :auto_triage, :playbook, 0, 0, 1, :at, :at, :year, :sequence)`,
      ),
      attach: db.prepare(
        'INSERT OR IGNORE INTO incident_list_alerts (id, incident_id, receipt_id, item_index, action, received_at, alert, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      severityOf: db.prepare('SELECT severity FROM incident_list WHERE id = ?'),
      counts: set('alert_count = :count, severity = :severity, last_seen_at = max(last_seen_at, :at)'),
      acknowledged: set("status = 'acknowledged', acknowledged_at = coalesce(acknowledged_at, :at)"),
      assigned: set('assignee = :assignee'),
      severity: set('severity = :severity'),
      resolved: set("status = 'resolved', resolved_at = :at, resolution = :resolution"),
      verified: set("status = 'verified', verified_at = :at"),
      failed: set("status = 'acknowledged', acknowledged_at = coalesce(acknowledged_at, :at)"),
      closed: set("status = 'closed', closed_at = :at, close_reason = :reason, duplicate_of = :duplicate_of"),
      reopened: set("status = 'open', reopened_at = :at, regression_count = :regressions"),
      manual: set("status = CASE status WHEN 'open' THEN 'needs_manual_triage' ELSE status END, triage_status = 'needs_manual'"),
      linked: set('related_count = max(related_count, :count)'),
      triage: set('triage_status = :triage_status'),
      verdict: set("triage_status = 'completed', verdict = :verdict, triage_score = :score"),
      byId: db.prepare(`SELECT ${COLUMNS} FROM incident_list WHERE organisation_id = ? AND id = ?`),
      byNumber: db.prepare(`SELECT ${COLUMNS} FROM incident_list WHERE organisation_id = ? AND number = ?`),
      list: db.prepare(
        `SELECT ${COLUMNS} FROM incident_list WHERE organisation_id = :organisation
           AND (:status IS NULL OR status = :status) AND (:severity IS NULL OR severity = :severity)
           AND (:source IS NULL OR source = :source) AND (:project IS NULL OR project_id = :project)
           AND (:assignee IS NULL OR assignee = :assignee)
           AND (:since IS NULL OR opened_at >= :since) AND (:until IS NULL OR opened_at < :until)
           AND (:after_opened IS NULL OR (opened_at, year, sequence) < (:after_opened, :after_year, :after_sequence))
         ORDER BY opened_at DESC, year DESC, sequence DESC LIMIT :limit`,
      ),
      alerts: db.prepare('SELECT id, receipt_id, item_index, received_at, alert FROM incident_list_alerts WHERE incident_id = ? ORDER BY count'),
    };
  }

  handle(event: IEvent): void {
    if (event instanceof IncidentOpened) {
      const [year, sequence] = numberParts(event.number);
      this.sql.open.run({
        id: event.incidentId,
        number: event.number,
        organisation: event.organisationId,
        project: event.projectId,
        source: event.source,
        vendor_alert_id: event.vendorAlertId,
        title: event.title,
        severity: event.severity,
        category: event.category,
        auto_triage: event.triage.autoTriage ? 1 : 0,
        playbook: event.triage.playbook,
        at: event.openedAt,
        year,
        sequence,
      });
    } else if (event instanceof AlertAttached) {
      const current = this.sql.severityOf.get(event.incidentId) as { severity: Severity } | undefined;
      if (!current) return;
      const { incidentId, alertId, receiptId, index, action, receivedAt, count } = event;
      this.sql.attach.run(alertId, incidentId, receiptId, index, action, receivedAt, JSON.stringify(event.alert), count);
      const severity = action === 'trigger' ? maxSeverity(current.severity, event.alert.severity) : current.severity;
      this.sql.counts.run({ id: incidentId, count, severity, at: receivedAt });
    } else if (event instanceof IncidentAcknowledged) {
      this.sql.acknowledged.run({ id: event.incidentId, at: event.acknowledgedAt });
    } else if (event instanceof IncidentAssigned) {
      this.sql.assigned.run({ id: event.incidentId, assignee: event.assignee });
    } else if (event instanceof IncidentSeverityChanged) {
      this.sql.severity.run({ id: event.incidentId, severity: event.to });
    } else if (event instanceof IncidentResolved) {
      this.sql.resolved.run({ id: event.incidentId, at: event.resolvedAt, resolution: event.resolution ?? null });
    } else if (event instanceof IncidentResolutionVerified) {
      this.sql.verified.run({ id: event.incidentId, at: event.verifiedAt });
    } else if (event instanceof IncidentResolutionFailed) {
      this.sql.failed.run({ id: event.incidentId, at: event.failedAt });
    } else if (event instanceof IncidentClosed) {
      this.sql.closed.run({ id: event.incidentId, at: event.closedAt, reason: event.reason, duplicate_of: event.duplicateOf });
    } else if (event instanceof IncidentReopened) {
      this.sql.reopened.run({ id: event.incidentId, at: event.reopenedAt, regressions: event.regressionCount });
    } else if (event instanceof IncidentNeedsManualTriage) {
      this.sql.manual.run({ id: event.incidentId });
    } else if (event instanceof IncidentLinked) {
      this.sql.linked.run({ id: event.incidentId, count: event.count });
    } else if (event instanceof TriageStarted) {
      this.sql.triage.run({ id: event.incidentId, triage_status: 'running' });
    } else if (event instanceof TriageSkipped) {
      this.sql.triage.run({ id: event.incidentId, triage_status: 'skipped' });
    } else if (event instanceof TriageCompleted) {
      this.sql.verdict.run({ id: event.incidentId, verdict: event.verdict, score: event.score });
    }
  }

  /** By id (lower-case uuid) or number (INC-…). */
  incident(organisationId: string, idOrNumber: string): IncidentView | undefined {
    const statement = idOrNumber.startsWith('INC-') ? this.sql.byNumber : this.sql.byId;
    const row = statement.get(organisationId, idOrNumber) as IncidentRow | undefined;
    return row && toView(row);
  }

  /** Newest first; `last` is the cursor of the page's last incident (null on an empty page). */
  incidents(organisationId: string, filter: IncidentFilter): { items: IncidentView[]; last: IncidentCursor | null } {
    const rows = this.sql.list.all({
      organisation: organisationId,
      status: filter.status ?? null,
      severity: filter.severity ?? null,
      source: filter.source ?? null,
      project: filter.projectId ?? null,
      assignee: filter.assignee ?? null,
      since: filter.since ?? null,
      until: filter.until ?? null,
      after_opened: filter.after?.[0] ?? null,
      after_year: filter.after?.[1] ?? null,
      after_sequence: filter.after?.[2] ?? null,
      limit: filter.limit,
    }) as unknown as IncidentRow[];
    const lastRow = rows.at(-1);
    return { items: rows.map(toView), last: lastRow ? [lastRow.opened_at, lastRow.year, lastRow.sequence] : null };
  }

  alerts(incidentId: string): IncidentAlertView[] {
    const rows = this.sql.alerts.all(incidentId) as {
      id: string;
      receipt_id: string;
      item_index: number;
      received_at: string;
      alert: string;
    }[];
    return rows.map((row) => ({
      id: row.id,
      receipt_id: row.receipt_id,
      index: row.item_index,
      received_at: row.received_at,
      ...(JSON.parse(row.alert) as NormalizedAlert),
    }));
  }
}
