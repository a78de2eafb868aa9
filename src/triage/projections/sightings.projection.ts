import { Inject, Injectable } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { StatementSync } from 'node:sqlite';
import type { EventContext } from '../../cqrs/domain-event';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import type { Position } from '../../event-store/event-store.port';
import { IncidentOpened } from '../../incidents/events/incident.events';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';
import { TriageStepCompleted } from '../events/triage.events';
import type { Sighting } from '../playbooks/playbook';

export const SIGHTINGS_PROJECTION = 'triage-sightings';

/** Positions as text that sorts like comparePositions (both parts zero-padded). */
export const sortablePosition = (position: Position) => `${position.commit.toString().padStart(20, '0')}/${position.prepare.toString().padStart(20, '0')}`;

/**
 * The correlation keys triage steps recorded (`sender:…`, `subject:…`, `host:…`, `fingerprint:…`), per
 * organisation: where campaigns, repeated detections on a host and duplicates are found. Each incident's
 * first sighting of a key is kept with its place in the store, which orders incidents the same way for
 * everyone — even two triaged at once — and on every rebuild.
 */
@StoreConsumer({
  name: SIGHTINGS_PROJECTION,
  tables: ['triage_sighting_incidents', 'triage_sightings'],
  queryIndexes: ['triage_sightings_by_key'],
  events: [IncidentOpened, TriageStepCompleted],
})
@Injectable()
export class SightingsProjection implements StoreConsumerHandler {
  private readonly sql: Record<string, StatementSync>;

  constructor(@Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase) {
    const db = readModels.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS triage_sighting_incidents (
        incident_id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL, number TEXT NOT NULL, opened_at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS triage_sightings (
        organisation_id TEXT NOT NULL, key TEXT NOT NULL, incident_id TEXT NOT NULL, position TEXT NOT NULL, seen_ms INTEGER NOT NULL,
        PRIMARY KEY (organisation_id, key, incident_id)
      );
      CREATE INDEX IF NOT EXISTS triage_sightings_by_key ON triage_sightings (organisation_id, key, position);
    `);
    this.sql = {
      incident: db.prepare('INSERT OR IGNORE INTO triage_sighting_incidents (incident_id, organisation_id, number, opened_at) VALUES (?, ?, ?, ?)'),
      facts: db.prepare('SELECT organisation_id, opened_at FROM triage_sighting_incidents WHERE incident_id = ?'),
      sight: db.prepare('INSERT OR IGNORE INTO triage_sightings (organisation_id, key, incident_id, position, seen_ms) VALUES (?, ?, ?, ?, ?)'),
      own: db.prepare('SELECT position, seen_ms FROM triage_sightings WHERE organisation_id = ? AND key = ? AND incident_id = ?'),
      earlier: db.prepare(
        `SELECT s.incident_id, i.number, s.key, i.opened_at FROM triage_sightings s JOIN triage_sighting_incidents i USING (incident_id)
          WHERE s.organisation_id = :organisation AND s.key = :key AND s.incident_id != :incident
            AND s.position < :position AND abs(s.seen_ms - :seen) <= :window
          ORDER BY s.position`,
      ),
    };
  }

  handle(event: IEvent, context: EventContext): void {
    if (event instanceof IncidentOpened) {
      this.sql.incident.run(event.incidentId, event.organisationId, event.number, event.openedAt);
      return;
    }
    if (!(event instanceof TriageStepCompleted)) return;
    const keys = event.evidence.correlation_keys;
    if (!Array.isArray(keys) || keys.length === 0) return;
    const facts = this.sql.facts.get(event.incidentId) as { organisation_id: string; opened_at: string } | undefined;
    if (!facts) return;
    for (const key of keys) {
      if (typeof key === 'string') this.sql.sight.run(facts.organisation_id, key, event.incidentId, sortablePosition(context.position), Date.parse(facts.opened_at));
    }
  }

  /** See Sightings.earlier; [] when this incident has not recorded the key (yet). */
  earlier(organisationId: string, incidentId: string, key: string, windowMs: number): Sighting[] {
    const own = this.sql.own.get(organisationId, key, incidentId) as { position: string; seen_ms: number } | undefined;
    if (!own) return [];
    const rows = this.sql.earlier.all({
      organisation: organisationId,
      key,
      incident: incidentId,
      position: own.position,
      seen: own.seen_ms,
      window: windowMs,
    }) as { incident_id: string; number: string; key: string; opened_at: string }[];
    return rows.map((row) => ({ incidentId: row.incident_id, number: row.number, key: row.key, seenAt: row.opened_at }));
  }
}
