import { Inject, Injectable, type Type } from '@nestjs/common';
import type { IEvent } from '@nestjs/cqrs';
import type { StatementSync } from 'node:sqlite';
import { registeredEventClasses, type EventContext } from '../../cqrs/domain-event';
import { organisationNamedBy } from '../../cqrs/request-context';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import type { JsonObject } from '../../event-store/event-store.port';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';

export const AUDIT_STREAMS_PROJECTION = 'audit-streams';

export interface StreamRow {
  stream: string;
  category: string;
  /** null: an instance-level stream. */
  organisation_id: string | null;
  revision: number;
  hash: string;
  last_position: number;
  updated_ms: number;
}

export interface LinkRow {
  position: number;
  event_id: string;
  stream: string;
  revision: number;
  correlation_id: string | null;
  causation_id: string | null;
}

export const categoryOf = (stream: string): string => {
  const dash = stream.indexOf('-');
  return dash < 0 ? stream : stream.slice(0, dash);
};

/**
 * The stream index: every stream with its head and its organisation, so auditors can list streams without a
 * scan of the log. The organisation of a stream is the one its first event names (metadata, else data): for
 * events written before metadata carried it, that is how an older event's organisation is derived. Derived,
 * like every read model — verification never trusts it: it reads the log itself and the signed ledger.
 */
@StoreConsumer({
  name: AUDIT_STREAMS_PROJECTION,
  tables: ['audit_streams', 'audit_links'],
  queryIndexes: ['audit_streams_by_organisation', 'audit_links_by_correlation', 'audit_links_by_causation'],
  // Every event type: read when the engine starts, once every capability has registered its events.
  get events() {
    return registeredEventClasses() as unknown as Type<IEvent>[];
  },
})
@Injectable()
export class AuditStreamsProjection implements StoreConsumerHandler {
  private readonly sql: Record<'upsert' | 'one' | 'page' | 'pageOf' | 'link' | 'correlated' | 'caused', StatementSync>;

  constructor(@Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase) {
    const db = readModels.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS audit_streams (
        stream TEXT PRIMARY KEY, category TEXT NOT NULL, organisation_id TEXT, revision INTEGER NOT NULL,
        hash TEXT NOT NULL, last_position INTEGER NOT NULL, updated_ms INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS audit_streams_by_organisation ON audit_streams (organisation_id, stream);
      -- Correlation and causation of every event, for traces (GET /api/audit/trace/:correlationId).
      CREATE TABLE IF NOT EXISTS audit_links (
        position INTEGER PRIMARY KEY, event_id TEXT NOT NULL, stream TEXT NOT NULL, revision INTEGER NOT NULL,
        correlation_id TEXT, causation_id TEXT
      );
      CREATE INDEX IF NOT EXISTS audit_links_by_correlation ON audit_links (correlation_id);
      CREATE INDEX IF NOT EXISTS audit_links_by_causation ON audit_links (causation_id);
    `);
    this.sql = {
      upsert: db.prepare(
        `INSERT INTO audit_streams (stream, category, organisation_id, revision, hash, last_position, updated_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (stream) DO UPDATE SET revision = excluded.revision, hash = excluded.hash,
           last_position = excluded.last_position, updated_ms = excluded.updated_ms,
           organisation_id = coalesce(audit_streams.organisation_id, excluded.organisation_id)`,
      ),
      one: db.prepare('SELECT * FROM audit_streams WHERE stream = ?'),
      page: db.prepare('SELECT * FROM audit_streams WHERE stream > ? AND substr(stream, 1, length(?2)) = ?2 ORDER BY stream LIMIT ?'),
      pageOf: db.prepare(
        'SELECT * FROM audit_streams WHERE organisation_id = ? AND stream > ? AND substr(stream, 1, length(?3)) = ?3 ORDER BY stream LIMIT ?',
      ),
      link: db.prepare('INSERT OR REPLACE INTO audit_links (position, event_id, stream, revision, correlation_id, causation_id) VALUES (?, ?, ?, ?, ?, ?)'),
      correlated: db.prepare('SELECT * FROM audit_links WHERE correlation_id = ? ORDER BY position LIMIT ?'),
      caused: db.prepare('SELECT * FROM audit_links WHERE causation_id = ? ORDER BY position LIMIT ?'),
    };
  }

  handle(event: IEvent, context: EventContext): void {
    // The first organisation named sticks (coalesce in the upsert): a stream belongs to one organisation.
    const organisationId = organisationNamedBy(event as unknown as JsonObject, context.metadata) ?? null;
    this.sql.upsert.run(
      context.stream,
      categoryOf(context.stream),
      organisationId,
      Number(context.revision),
      String(context.metadata.hash),
      Number(context.position.commit),
      context.created.getTime(),
    );
    const text = (value: unknown) => (typeof value === 'string' ? value : null);
    this.sql.link.run(
      Number(context.position.commit),
      context.id,
      context.stream,
      Number(context.revision),
      text(context.metadata.$correlationId),
      text(context.metadata.$causationId),
    );
  }

  /** Events of a correlation id, or caused by an event id, in log order. */
  links(by: 'correlation' | 'causation', id: string, limit: number): LinkRow[] {
    return (by === 'correlation' ? this.sql.correlated : this.sql.caused).all(id, limit) as unknown as LinkRow[];
  }

  stream(stream: string): StreamRow | undefined {
    return this.sql.one.get(stream) as StreamRow | undefined;
  }

  /** Streams after `cursor` (by name) with a name starting with `prefix`; one organisation's, or all (undefined). */
  page(organisationId: string | undefined, prefix: string, cursor: string, limit: number): StreamRow[] {
    return (
      organisationId === undefined
        ? this.sql.page.all(cursor, prefix, limit)
        : this.sql.pageOf.all(organisationId, cursor, prefix, limit)
    ) as unknown as StreamRow[];
  }
}
