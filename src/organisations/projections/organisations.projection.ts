import { Inject, Injectable } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { StatementSync } from 'node:sqlite';
import type { Scope } from '../../contracts/scopes';
import type { ApiKeyView, OrganisationView, ProjectView } from '../../contracts/tenancy';
import type { EventContext } from '../../cqrs/domain-event';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';
import { ApiKeyIssued, ApiKeyRevoked, OrganisationCreated, ProjectCreated } from '../events/organisation.events';

export const ORGANISATIONS_PROJECTION = 'organisations';

export type { ApiKeyView, OrganisationView, ProjectView };

interface ApiKeyRow extends Omit<ApiKeyView, 'scopes'> {
  scopes: string;
}

const toKey = (row: ApiKeyRow): ApiKeyView => ({ ...row, scopes: JSON.parse(row.scopes) as Scope[] });

/**
 * Organisations, projects and API keys as tables, for listing and for authenticating every request by key
 * hash. Every write is an idempotent upsert, so replaying an event (at-least-once delivery) changes nothing.
 */
@StoreConsumer({ name: ORGANISATIONS_PROJECTION, tables: ['organisations', 'projects', 'api_keys'], events: [OrganisationCreated, ProjectCreated, ApiKeyIssued, ApiKeyRevoked] })
@Injectable()
export class OrganisationsProjection implements StoreConsumerHandler {
  private readonly sql: Record<string, StatementSync>;

  constructor(@Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase) {
    const db = readModels.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS organisations (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS projects (
        id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS projects_by_organisation ON projects (organisation_id, created_at);
      CREATE TABLE IF NOT EXISTS api_keys (
        id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL, name TEXT NOT NULL, scopes TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT
      );
      CREATE INDEX IF NOT EXISTS api_keys_by_organisation ON api_keys (organisation_id, created_at);
    `);
    this.sql = {
      insertOrganisation: db.prepare('INSERT OR IGNORE INTO organisations (id, name, created_at) VALUES (?, ?, ?)'),
      insertProject: db.prepare('INSERT OR IGNORE INTO projects (id, organisation_id, name, created_at) VALUES (?, ?, ?, ?)'),
      insertKey: db.prepare(
        'INSERT OR IGNORE INTO api_keys (id, organisation_id, name, scopes, key_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      revokeKey: db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      organisations: db.prepare('SELECT id, name, created_at FROM organisations ORDER BY created_at, id'),
      organisation: db.prepare('SELECT id, name, created_at FROM organisations WHERE id = ?'),
      projects: db.prepare(
        'SELECT id, organisation_id, name, created_at FROM projects WHERE organisation_id = ? ORDER BY created_at, id',
      ),
      project: db.prepare('SELECT id, organisation_id, name, created_at FROM projects WHERE organisation_id = ? AND id = ?'),
      keys: db.prepare(
        'SELECT id, organisation_id, name, scopes, created_at, revoked_at FROM api_keys WHERE organisation_id = ? ORDER BY created_at, id',
      ),
      key: db.prepare(
        'SELECT id, organisation_id, name, scopes, created_at, revoked_at FROM api_keys WHERE organisation_id = ? AND id = ?',
      ),
      keyByHash: db.prepare(
        'SELECT id, organisation_id, name, scopes, created_at, revoked_at FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL',
      ),
    };
  }

  handle(event: IEvent, { created }: EventContext): void {
    const at = created.toISOString();
    if (event instanceof OrganisationCreated) this.sql.insertOrganisation.run(event.organisationId, event.name, at);
    else if (event instanceof ProjectCreated) this.sql.insertProject.run(event.projectId, event.organisationId, event.name, at);
    else if (event instanceof ApiKeyIssued) {
      this.sql.insertKey.run(event.keyId, event.organisationId, event.name, JSON.stringify(event.scopes), event.keyHash, at);
    } else if (event instanceof ApiKeyRevoked) this.sql.revokeKey.run(at, event.keyId);
  }

  organisations(): OrganisationView[] {
    return this.sql.organisations.all() as unknown as OrganisationView[];
  }

  organisation(id: string): OrganisationView | undefined {
    return this.sql.organisation.get(id) as OrganisationView | undefined;
  }

  projects(organisationId: string): ProjectView[] {
    return this.sql.projects.all(organisationId) as unknown as ProjectView[];
  }

  project(organisationId: string, projectId: string): ProjectView | undefined {
    return this.sql.project.get(organisationId, projectId) as ProjectView | undefined;
  }

  apiKeys(organisationId: string): ApiKeyView[] {
    return (this.sql.keys.all(organisationId) as unknown as ApiKeyRow[]).map(toKey);
  }

  apiKey(organisationId: string, keyId: string): ApiKeyView | undefined {
    const row = this.sql.key.get(organisationId, keyId) as ApiKeyRow | undefined;
    return row && toKey(row);
  }

  /** The active (unrevoked) key with this hash. */
  activeKeyByHash(keyHash: string): ApiKeyView | undefined {
    const row = this.sql.keyByHash.get(keyHash) as ApiKeyRow | undefined;
    return row && toKey(row);
  }
}
