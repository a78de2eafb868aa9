import { Inject, Injectable } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { StatementSync } from 'node:sqlite';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';
import { toEnvelope, type SecurityEnvelope } from '../envelope';
import { SecurityEventRecorded } from '../events/security-event.events';

export const SECURITY_EVENTS_PROJECTION = 'outbound.security-events';

export interface SecurityEventFilter {
  type?: string;
  projectId?: string;
  /** Unix seconds, inclusive. */
  since?: number;
  /** Unix seconds, exclusive. */
  until?: number;
  /** The last `seq` of the previous page. */
  after: number;
  limit: number;
}

/**
 * The security-event log as a table, for listing with filters and cursor paging (in log order, so a
 * client can follow the log by keeping the cursor). Keyed by event id: an event recorded twice is listed once.
 */
@StoreConsumer({
  name: SECURITY_EVENTS_PROJECTION,
  tables: ['outbound_security_events'],
  queryIndexes: ['outbound_security_events_by_organisation', 'outbound_security_events_by_type'],
  events: [SecurityEventRecorded],
})
@Injectable()
export class SecurityEventsProjection implements StoreConsumerHandler {
  private readonly sql: Record<string, StatementSync>;

  constructor(@Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase) {
    const db = readModels.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS outbound_security_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, organisation_id TEXT NOT NULL,
        project_id TEXT, event_type TEXT NOT NULL, timestamp INTEGER NOT NULL, producer TEXT NOT NULL, envelope TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS outbound_security_events_by_organisation ON outbound_security_events (organisation_id, seq);
      CREATE INDEX IF NOT EXISTS outbound_security_events_by_type ON outbound_security_events (organisation_id, event_type, seq);
    `);
    this.sql = {
      insert: db.prepare(
        'INSERT OR IGNORE INTO outbound_security_events (id, organisation_id, project_id, event_type, timestamp, producer, envelope) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      byId: db.prepare('SELECT envelope FROM outbound_security_events WHERE organisation_id = ? AND id = ?'),
      list: db.prepare(
        'SELECT seq, envelope FROM outbound_security_events WHERE organisation_id = ?1 AND seq > ?2 ' +
          'AND (?3 IS NULL OR event_type = ?3) AND (?4 IS NULL OR project_id = ?4) ' +
          'AND (?5 IS NULL OR timestamp >= ?5) AND (?6 IS NULL OR timestamp < ?6) ORDER BY seq LIMIT ?7',
      ),
    };
  }

  handle(event: IEvent): void {
    if (!(event instanceof SecurityEventRecorded)) return;
    const e = toEnvelope(event.envelope);
    this.sql.insert.run(e.id, e.organisation_id, e.project_id, e.event_type, e.timestamp, event.producer, JSON.stringify(e));
  }

  event(organisationId: string, id: string): SecurityEnvelope | undefined {
    const row = this.sql.byId.get(organisationId, id) as { envelope: string } | undefined;
    return row && (JSON.parse(row.envelope) as SecurityEnvelope);
  }

  list(organisationId: string, filter: SecurityEventFilter): { items: SecurityEnvelope[]; last: number | null } {
    const rows = this.sql.list.all(
      organisationId,
      filter.after,
      filter.type ?? null,
      filter.projectId ?? null,
      filter.since ?? null,
      filter.until ?? null,
      filter.limit,
    ) as { seq: number; envelope: string }[];
    return { items: rows.map((r) => JSON.parse(r.envelope) as SecurityEnvelope), last: rows.length ? rows[rows.length - 1].seq : null };
  }
}
