import { Inject, Injectable } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { StatementSync } from 'node:sqlite';
import type { EventContext } from '../../cqrs/domain-event';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';
import { SourceRegistered, SourceRemoved, SourceSecretRotated, SourceUpdated, type SourceSettings } from '../events/source.events';
import { rotateSecrets, sourceStream, type SourceSecretState } from '../source.aggregate';

export const SOURCES_PROJECTION = 'inbound-sources';

export interface SourceView {
  name: string;
  organisationId: string;
  /** The stream, which is also the context the secrets are sealed to. */
  stream: string;
  settings: SourceSettings;
  /** Sealed; includes expired ones until the next rotation drops them (check expiresAt). */
  secrets: SourceSecretState[];
  createdAt: string;
  updatedAt: string;
}

interface SourceRow {
  name: string;
  organisation_id: string;
  settings: string;
  secrets: string;
  created_at: string;
  updated_at: string;
}

const toView = (row: SourceRow): SourceView => ({
  name: row.name,
  organisationId: row.organisation_id,
  stream: sourceStream(row.organisation_id, row.name),
  settings: JSON.parse(row.settings) as SourceSettings,
  secrets: JSON.parse(row.secrets) as SourceSecretState[],
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/**
 * The live sources, by name (unique across the instance): what the receiving endpoint looks a source up in,
 * and what the API lists. Secrets stay sealed here as in the events. Every write replaces or deletes whole
 * facts, so a redelivered event changes nothing.
 */
@StoreConsumer({ name: SOURCES_PROJECTION, tables: ['inbound_sources'], events: [SourceRegistered, SourceUpdated, SourceSecretRotated, SourceRemoved] })
@Injectable()
export class SourcesProjection implements StoreConsumerHandler {
  private readonly sql: Record<string, StatementSync>;

  constructor(@Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase) {
    const db = readModels.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS inbound_sources (
        name TEXT PRIMARY KEY, organisation_id TEXT NOT NULL, settings TEXT NOT NULL, secrets TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS inbound_sources_by_organisation ON inbound_sources (organisation_id, name);
    `);
    const columns = 'name, organisation_id, settings, secrets, created_at, updated_at';
    this.sql = {
      register: db.prepare(`INSERT OR REPLACE INTO inbound_sources (${columns}) VALUES (?, ?, ?, ?, ?, ?)`),
      update: db.prepare('UPDATE inbound_sources SET settings = ?, updated_at = ? WHERE name = ? AND organisation_id = ?'),
      secrets: db.prepare('UPDATE inbound_sources SET secrets = ?, updated_at = ? WHERE name = ? AND organisation_id = ?'),
      remove: db.prepare('DELETE FROM inbound_sources WHERE name = ? AND organisation_id = ?'),
      byName: db.prepare(`SELECT ${columns} FROM inbound_sources WHERE name = ?`),
      list: db.prepare(`SELECT ${columns} FROM inbound_sources WHERE organisation_id = ? ORDER BY name`),
    };
  }

  handle(event: IEvent, { created }: EventContext): void {
    const at = created.toISOString();
    if (event instanceof SourceRegistered) {
      const secrets: SourceSecretState[] = [{ ...event.secret, expiresAt: null }];
      this.sql.register.run(event.name, event.organisationId, JSON.stringify(event.settings), JSON.stringify(secrets), at, at);
    } else if (event instanceof SourceUpdated) {
      this.sql.update.run(JSON.stringify(event.settings), at, event.name, event.organisationId);
    } else if (event instanceof SourceSecretRotated) {
      const current = this.source(event.organisationId, event.name);
      if (!current) return;
      this.sql.secrets.run(JSON.stringify(rotateSecrets(current.secrets, event)), at, event.name, event.organisationId);
    } else if (event instanceof SourceRemoved) {
      this.sql.remove.run(event.name, event.organisationId);
    }
  }

  /** The live source with this name, whichever organisation it belongs to. */
  byName(name: string): SourceView | undefined {
    const row = this.sql.byName.get(name) as SourceRow | undefined;
    return row && toView(row);
  }

  source(organisationId: string, name: string): SourceView | undefined {
    const found = this.byName(name);
    return found?.organisationId === organisationId ? found : undefined;
  }

  list(organisationId: string): SourceView[] {
    return (this.sql.list.all(organisationId) as unknown as SourceRow[]).map(toView);
  }
}
