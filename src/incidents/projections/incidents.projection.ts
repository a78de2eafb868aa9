import { Inject, Injectable } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { StatementSync } from 'node:sqlite';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import type { NormalizedAlert, Severity } from '../../inbound/normalizers';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';
import { AlertAttached, IncidentOpened, IncidentReopened, IncidentResolved } from '../events/incident.events';
import { INCIDENT_NUMBER, maxSeverity } from '../incident.aggregate';

export const INCIDENTS_PROJECTION = 'incidents';

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
  status: 'open' | 'resolved';
  auto_triage: boolean;
  playbook: string | null;
  alert_count: number;
  regression_count: number;
  opened_at: string;
  last_seen_at: string;
  resolved_at: string | null;
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
  status?: 'open' | 'resolved';
  source?: string;
  limit: number;
  offset: number;
}

interface IncidentRow extends Omit<IncidentView, 'auto_triage'> {
  auto_triage: number;
}

const COLUMNS =
  'id, number, organisation_id, project_id, source, vendor_alert_id, title, severity, category, status, auto_triage, ' +
  'playbook, alert_count, regression_count, opened_at, last_seen_at, resolved_at, reopened_at';

const toView = (row: IncidentRow): IncidentView => ({ ...row, auto_triage: row.auto_triage === 1 });

function numberParts(number: string): [number, number] {
  const match = INCIDENT_NUMBER.exec(number);
  return match ? [Number(match[1]), Number(match[2])] : [0, 0];
}

/**
 * Incidents and their alerts, per organisation. Counts and times are taken from the events as absolute
 * values (and severity only ever rises), so applying an event twice leaves the same row.
 */
@StoreConsumer({ name: INCIDENTS_PROJECTION, events: [IncidentOpened, AlertAttached, IncidentResolved, IncidentReopened] })
@Injectable()
export class IncidentsProjection implements StoreConsumerHandler {
  private readonly sql: Record<string, StatementSync>;

  constructor(@Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase) {
    const db = readModels.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS incidents (
        id TEXT PRIMARY KEY, number TEXT NOT NULL, organisation_id TEXT NOT NULL, project_id TEXT,
        source TEXT NOT NULL, vendor_alert_id TEXT NOT NULL, title TEXT NOT NULL, severity TEXT NOT NULL,
        category TEXT, status TEXT NOT NULL, auto_triage INTEGER NOT NULL, playbook TEXT,
        alert_count INTEGER NOT NULL, regression_count INTEGER NOT NULL, opened_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL, resolved_at TEXT, reopened_at TEXT,
        -- The number's parts, so that INC-2026-10000 sorts after INC-2026-9999.
        year INTEGER NOT NULL, sequence INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX IF NOT EXISTS incidents_by_number ON incidents (organisation_id, number);
      CREATE INDEX IF NOT EXISTS incidents_by_opening ON incidents (organisation_id, opened_at);
      CREATE TABLE IF NOT EXISTS incident_alerts (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, incident_id TEXT NOT NULL,
        receipt_id TEXT NOT NULL, item_index INTEGER NOT NULL, action TEXT NOT NULL, received_at TEXT NOT NULL,
        alert TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS incident_alerts_by_incident ON incident_alerts (incident_id, seq);
    `);
    this.sql = {
      open: db.prepare(
        `INSERT OR IGNORE INTO incidents (${COLUMNS}, year, sequence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, 0, 0, ?, ?, NULL, NULL, ?, ?)`,
      ),
      attach: db.prepare(
        'INSERT OR IGNORE INTO incident_alerts (id, incident_id, receipt_id, item_index, action, received_at, alert) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      counts: db.prepare(
        'UPDATE incidents SET alert_count = ?, severity = ?, last_seen_at = max(last_seen_at, ?) WHERE id = ?',
      ),
      resolve: db.prepare("UPDATE incidents SET status = 'resolved', resolved_at = ? WHERE id = ?"),
      reopen: db.prepare("UPDATE incidents SET status = 'open', reopened_at = ?, regression_count = ? WHERE id = ?"),
      severity: db.prepare('SELECT severity FROM incidents WHERE id = ?'),
      byId: db.prepare(`SELECT ${COLUMNS} FROM incidents WHERE organisation_id = ? AND id = ?`),
      byNumber: db.prepare(`SELECT ${COLUMNS} FROM incidents WHERE organisation_id = ? AND number = ?`),
      list: db.prepare(
        `SELECT ${COLUMNS} FROM incidents WHERE organisation_id = ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR source = ?3) ` +
          'ORDER BY opened_at DESC, year DESC, sequence DESC LIMIT ?4 OFFSET ?5',
      ),
      alerts: db.prepare(
        'SELECT id, receipt_id, item_index, received_at, alert FROM incident_alerts WHERE incident_id = ? ORDER BY seq',
      ),
    };
  }

  handle(event: IEvent): void {
    if (event instanceof IncidentOpened) {
      this.sql.open.run(
        event.incidentId,
        event.number,
        event.organisationId,
        event.projectId,
        event.source,
        event.vendorAlertId,
        event.title,
        event.severity,
        event.category,
        event.triage.autoTriage ? 1 : 0,
        event.triage.playbook,
        event.openedAt,
        event.openedAt,
        ...numberParts(event.number),
      );
    } else if (event instanceof AlertAttached) {
      const current = this.sql.severity.get(event.incidentId) as { severity: Severity } | undefined;
      if (!current) return;
      this.sql.attach.run(event.alertId, event.incidentId, event.receiptId, event.index, event.action, event.receivedAt, JSON.stringify(event.alert));
      const severity = event.action === 'trigger' ? maxSeverity(current.severity, event.alert.severity) : current.severity;
      this.sql.counts.run(event.count, severity, event.receivedAt, event.incidentId);
    } else if (event instanceof IncidentResolved) {
      this.sql.resolve.run(event.resolvedAt, event.incidentId);
    } else if (event instanceof IncidentReopened) {
      this.sql.reopen.run(event.reopenedAt, event.regressionCount, event.incidentId);
    }
  }

  incident(organisationId: string, idOrNumber: string): IncidentView | undefined {
    const statement = idOrNumber.startsWith('INC-') ? this.sql.byNumber : this.sql.byId;
    const row = statement.get(organisationId, idOrNumber) as IncidentRow | undefined;
    return row && toView(row);
  }

  incidents(organisationId: string, filter: IncidentFilter): IncidentView[] {
    const rows = this.sql.list.all(organisationId, filter.status ?? null, filter.source ?? null, filter.limit, filter.offset);
    return (rows as unknown as IncidentRow[]).map(toView);
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
