import { Inject, Injectable } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { StatementSync } from 'node:sqlite';
import type { EventContext } from '../../cqrs/domain-event';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';
import { DeliveryPlanner } from '../delivery/delivery-planner';
import { SecurityEventRecorded } from '../events/security-event.events';
import { WebhookCreated, WebhookDeleted, WebhookDisabled, WebhookSecretRotated, WebhookUpdated } from '../events/webhook.events';
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
 * The organisations' webhooks as a table — and, in the same consumer, the delivery planner. Matching an
 * event to webhooks must see the webhooks exactly as they were at the event's place in $all (a webhook
 * created after an event must not receive it, one disabled before must not), and one consumer handling both
 * kinds of events in order guarantees that, on a replay as much as live.
 */
@StoreConsumer({
  name: WEBHOOKS_PROJECTION,
  kind: 'reactor',
  concurrency: 16,
  events: [WebhookCreated, WebhookUpdated, WebhookSecretRotated, WebhookDisabled, WebhookDeleted, SecurityEventRecorded],
})
@Injectable()
export class WebhooksProjection implements StoreConsumerHandler {
  private readonly sql: Record<string, StatementSync>;

  constructor(
    @Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase,
    private readonly planner: DeliveryPlanner,
  ) {
    const db = readModels.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS outbound_webhooks (
        id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL, state TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS outbound_webhooks_by_organisation ON outbound_webhooks (organisation_id, created_at);
    `);
    this.sql = {
      get: db.prepare('SELECT * FROM outbound_webhooks WHERE id = ?'),
      put: db.prepare(
        'INSERT INTO outbound_webhooks (id, organisation_id, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at',
      ),
      delete: db.prepare('DELETE FROM outbound_webhooks WHERE id = ?'),
      list: db.prepare('SELECT * FROM outbound_webhooks WHERE organisation_id = ? ORDER BY created_at, id'),
    };
  }

  /** One organisation's webhooks and events in log order; organisations side by side. */
  partitionOf(event: IEvent): string {
    return event instanceof SecurityEventRecorded ? event.envelope.organisation_id : (event as WebhookCreated).organisationId;
  }

  async handle(event: IEvent, context: EventContext): Promise<void> {
    if (event instanceof SecurityEventRecorded) {
      await this.planner.plan(event.envelope, context, this.list(event.envelope.organisation_id));
      return;
    }
    const { webhookId, organisationId } = event as WebhookCreated;
    const row = this.sql.get.get(webhookId) as Row | undefined;
    const before = new Map<string, WebhookState>(row ? [[webhookId, JSON.parse(row.state) as WebhookState]] : []);
    // The aggregate's own fold, applied to this one webhook: the table and the command side cannot disagree.
    const after = Webhooks.evolve({ webhooks: before }, event).webhooks.get(webhookId);
    const at = context.created.toISOString();
    if (!after) this.sql.delete.run(webhookId);
    else this.sql.put.run(webhookId, organisationId, JSON.stringify(after), row?.created_at ?? at, at);
  }

  webhook(organisationId: string, webhookId: string): WebhookRecord | undefined {
    const row = this.sql.get.get(webhookId) as Row | undefined;
    return row && row.organisation_id === organisationId ? toRecord(row) : undefined;
  }

  list(organisationId: string): WebhookRecord[] {
    return (this.sql.list.all(organisationId) as unknown as Row[]).map(toRecord);
  }
}
