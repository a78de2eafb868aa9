import { Inject, Injectable } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { StatementSync } from 'node:sqlite';
import type { EventContext } from '../../cqrs/domain-event';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import type { Position } from '../../event-store/event-store.port';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';
import { WebhookCreated, WebhookDeleted, WebhookDisabled, WebhookSecretRotated, WebhookUpdated, type WebhookSettings } from '../events/webhook.events';
import { Webhooks, type WebhookState } from '../webhook.aggregate';

export const WEBHOOKS_PROJECTION = 'outbound.webhooks';

export interface WebhookRecord extends WebhookState {
  id: string;
  organisationId: string;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  organisation_id: string;
  state: string;
  created_at: string;
  updated_at: string;
}

const toRecord = (row: Row): WebhookRecord => ({
  id: row.id,
  organisationId: row.organisation_id,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  ...(JSON.parse(row.state) as WebhookState),
});

/**
 * The organisations' webhooks as a table, and every version each webhook went through with the place in the
 * log where it began and ended — so the delivery planner matches an event against the webhooks exactly as
 * they were at the event's place (a webhook created after an event must not receive it, one disabled before
 * must not), however far this projection has moved on meanwhile.
 */
@StoreConsumer({
  name: WEBHOOKS_PROJECTION,
  tables: ['outbound_webhooks', 'outbound_webhook_versions'],
  // 2: versions beside the current rows; the planner left for a reactor of its own.
  version: 2,
  events: [WebhookCreated, WebhookUpdated, WebhookSecretRotated, WebhookDisabled, WebhookDeleted],
})
@Injectable()
export class WebhooksProjection implements StoreConsumerHandler {
  private readonly sql: Record<string, StatementSync>;

  constructor(@Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase) {
    const db = readModels.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS outbound_webhooks (
        id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL, state TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS outbound_webhooks_by_organisation ON outbound_webhooks (organisation_id, created_at);
      -- A version holds from its event's position (inclusive) until the next version's (exclusive; NULL: still).
      CREATE TABLE IF NOT EXISTS outbound_webhook_versions (
        webhook_id TEXT NOT NULL, organisation_id TEXT NOT NULL, created_at TEXT NOT NULL, settings TEXT NOT NULL,
        from_commit INTEGER NOT NULL, from_prepare INTEGER NOT NULL, until_commit INTEGER, until_prepare INTEGER,
        PRIMARY KEY (webhook_id, from_commit, from_prepare)
      );
      CREATE INDEX IF NOT EXISTS outbound_webhook_versions_by_organisation ON outbound_webhook_versions (organisation_id, from_commit);
    `);
    this.sql = {
      get: db.prepare('SELECT * FROM outbound_webhooks WHERE id = ?'),
      put: db.prepare(
        'INSERT INTO outbound_webhooks (id, organisation_id, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at',
      ),
      delete: db.prepare('DELETE FROM outbound_webhooks WHERE id = ?'),
      list: db.prepare('SELECT * FROM outbound_webhooks WHERE organisation_id = ? ORDER BY created_at, id'),
      close: db.prepare('UPDATE outbound_webhook_versions SET until_commit = ?, until_prepare = ? WHERE webhook_id = ? AND until_commit IS NULL'),
      open: db.prepare(
        'INSERT INTO outbound_webhook_versions (webhook_id, organisation_id, created_at, settings, from_commit, from_prepare) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      asOf: db.prepare(
        `SELECT webhook_id, settings FROM outbound_webhook_versions WHERE organisation_id = :organisation
           AND (from_commit < :commit OR (from_commit = :commit AND from_prepare <= :prepare))
           AND (until_commit IS NULL OR until_commit > :commit OR (until_commit = :commit AND until_prepare > :prepare))
         ORDER BY created_at, webhook_id`,
      ),
    };
  }

  handle(event: IEvent, context: EventContext): void {
    const { webhookId, organisationId } = event as WebhookCreated;
    const row = this.sql.get.get(webhookId) as Row | undefined;
    const before = new Map<string, WebhookState>(row ? [[webhookId, JSON.parse(row.state) as WebhookState]] : []);
    // The aggregate's own fold, applied to this one webhook: the table and the command side cannot disagree.
    const after = Webhooks.evolve({ webhooks: before }, event).webhooks.get(webhookId);
    const at = context.created.toISOString();
    const { commit, prepare } = context.position;
    this.sql.close.run(commit, prepare, webhookId);
    if (!after) {
      this.sql.delete.run(webhookId);
      return;
    }
    this.sql.put.run(webhookId, organisationId, JSON.stringify(after), row?.created_at ?? at, at);
    this.sql.open.run(webhookId, organisationId, row?.created_at ?? at, JSON.stringify(after.settings), commit, prepare);
  }

  webhook(organisationId: string, webhookId: string): WebhookRecord | undefined {
    const row = this.sql.get.get(webhookId) as Row | undefined;
    return row && row.organisation_id === organisationId ? toRecord(row) : undefined;
  }

  /** A webhook's current settings, whatever its organisation (the delivery worker's pacing). */
  settingsOf(webhookId: string): WebhookSettings | undefined {
    const row = this.sql.get.get(webhookId) as Row | undefined;
    return row ? (JSON.parse(row.state) as WebhookState).settings : undefined;
  }

  list(organisationId: string): WebhookRecord[] {
    return (this.sql.list.all(organisationId) as unknown as Row[]).map(toRecord);
  }

  /** The organisation's webhooks as they were at `position` (this projection must have seen the log up to it). */
  asOf(organisationId: string, position: Position): { id: string; settings: WebhookSettings }[] {
    const rows = this.sql.asOf.all({ organisation: organisationId, commit: position.commit, prepare: position.prepare }) as { webhook_id: string; settings: string }[];
    return rows.map((r) => ({ id: r.webhook_id, settings: JSON.parse(r.settings) as WebhookSettings }));
  }
}
