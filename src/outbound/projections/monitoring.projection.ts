import { Inject, Injectable } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { StatementSync } from 'node:sqlite';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';
import { MonitoringPaused, MonitoringResumed } from '../events/monitoring.events';

export const MONITORING_PROJECTION = 'outbound.monitoring';

export interface MonitoringView {
  project_id: string;
  paused: boolean;
  reason: string | null;
  /** When it was last paused or resumed; null if never. */
  since: string | null;
}

@StoreConsumer({ name: MONITORING_PROJECTION, tables: ['outbound_monitoring'], events: [MonitoringPaused, MonitoringResumed] })
@Injectable()
export class MonitoringProjection implements StoreConsumerHandler {
  private readonly sql: Record<string, StatementSync>;

  constructor(@Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase) {
    const db = readModels.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS outbound_monitoring (
        project_id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL, paused INTEGER NOT NULL, reason TEXT, since TEXT NOT NULL
      );
    `);
    this.sql = {
      upsert: db.prepare(
        'INSERT INTO outbound_monitoring (project_id, organisation_id, paused, reason, since) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (project_id) DO UPDATE SET paused = excluded.paused, reason = excluded.reason, since = excluded.since',
      ),
      get: db.prepare('SELECT paused, reason, since FROM outbound_monitoring WHERE organisation_id = ? AND project_id = ?'),
    };
  }

  handle(event: IEvent): void {
    if (event instanceof MonitoringPaused) this.sql.upsert.run(event.projectId, event.organisationId, 1, event.reason, event.pausedAt);
    else if (event instanceof MonitoringResumed) this.sql.upsert.run(event.projectId, event.organisationId, 0, null, event.resumedAt);
  }

  state(organisationId: string, projectId: string): MonitoringView {
    const row = this.sql.get.get(organisationId, projectId) as { paused: number; reason: string | null; since: string } | undefined;
    return { project_id: projectId, paused: row?.paused === 1, reason: row?.reason ?? null, since: row?.since ?? null };
  }
}
