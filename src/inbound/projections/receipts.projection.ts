import { Inject, Injectable } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { StatementSync } from 'node:sqlite';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';
import { AlertProcessed, AlertReceived, type AcceptedAnswer } from '../events/alert.events';

export const RECEIPTS_PROJECTION = 'inbound-receipts';

export interface ReceiptView {
  id: string;
  organisationId: string;
  source: string;
  mode: 'sync' | 'queued';
  receivedAt: string;
  alertCount: number;
  processedAt: string | null;
  answer: AcceptedAnswer | null;
}

interface ReceiptRow {
  id: string;
  organisation_id: string;
  source: string;
  mode: 'sync' | 'queued';
  received_at: string;
  alert_count: number;
  processed_at: string | null;
  answer: string | null;
}

/** Received webhooks and their outcome, for the queue status endpoint. Insert-or-ignore and set: replay-safe. */
@StoreConsumer({ name: RECEIPTS_PROJECTION, tables: ['inbound_receipts'], events: [AlertReceived, AlertProcessed] })
@Injectable()
export class ReceiptsProjection implements StoreConsumerHandler {
  private readonly sql: Record<string, StatementSync>;

  constructor(@Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase) {
    const db = readModels.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS inbound_receipts (
        id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL, source TEXT NOT NULL, mode TEXT NOT NULL,
        received_at TEXT NOT NULL, alert_count INTEGER NOT NULL, processed_at TEXT, answer TEXT
      );
    `);
    this.sql = {
      receive: db.prepare(
        'INSERT OR IGNORE INTO inbound_receipts (id, organisation_id, source, mode, received_at, alert_count) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      process: db.prepare('UPDATE inbound_receipts SET processed_at = ?, answer = ? WHERE id = ?'),
      get: db.prepare('SELECT * FROM inbound_receipts WHERE id = ?'),
    };
  }

  handle(event: IEvent): void {
    if (event instanceof AlertReceived) {
      this.sql.receive.run(event.receiptId, event.organisationId, event.source, event.mode, event.receivedAt, event.alerts.length);
    } else if (event instanceof AlertProcessed) {
      this.sql.process.run(event.processedAt, JSON.stringify(event.answer), event.receiptId);
    }
  }

  receipt(id: string): ReceiptView | undefined {
    const row = this.sql.get.get(id) as ReceiptRow | undefined;
    if (!row) return undefined;
    return {
      id: row.id,
      organisationId: row.organisation_id,
      source: row.source,
      mode: row.mode,
      receivedAt: row.received_at,
      alertCount: row.alert_count,
      processedAt: row.processed_at,
      answer: row.answer === null ? null : (JSON.parse(row.answer) as AcceptedAnswer),
    };
  }
}
