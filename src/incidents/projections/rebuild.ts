import type { Type } from '@nestjs/common';
import { contextOf, eventTypeOf, hydrate } from '../../cqrs/domain-event';
import { STORE_CONSUMER, type StoreConsumerHandler, type StoreConsumerOptions } from '../../cqrs/store-consumer';
import type { EventStore, Position } from '../../event-store/event-store.port';
import { ReadModelDatabase } from '../../read-model/read-model.database';

/** Builds one projection on a given read-model database (its constructor's other arguments are the caller's). */
export type ProjectionFactory = (readModels: ReadModelDatabase) => StoreConsumerHandler;

const PAGE = 1_000;

/**
 * Replays the whole store, from position zero, through fresh instances of the same projection code, into a
 * scratch in-memory database: each projection sees exactly the event types its @StoreConsumer names, in
 * $all order, as the live subscription feeds them. Comparing its tables with the live ones (tableRows) is
 * the proof that a projection is rebuildable.
 */
export async function rebuildProjections(store: EventStore, factories: ProjectionFactory[]): Promise<ReadModelDatabase> {
  const scratch = new ReadModelDatabase(':memory:');
  const projections = factories.map((factory) => {
    const projection = factory(scratch);
    const options = Reflect.getMetadata(STORE_CONSUMER, projection.constructor as Type) as StoreConsumerOptions | undefined;
    if (!options) throw new Error(`${projection.constructor.name} is not a @StoreConsumer`);
    return { projection, types: new Set(options.events.map(eventTypeOf)) };
  });
  let after: Position | undefined;
  for (;;) {
    const page = await store.readAll({ after, maxCount: PAGE });
    for (const recorded of page) {
      const event = hydrate(recorded);
      if (!event) continue;
      for (const { projection, types } of projections) {
        if (types.has(recorded.type)) await projection.handle?.(event, contextOf(recorded));
      }
    }
    if (page.length < PAGE) return scratch;
    after = page[page.length - 1].position;
  }
}

/** Every row of a table, in a stable order (all columns), for comparing a rebuild with the live database. */
export function tableRows(readModels: ReadModelDatabase, table: string): Record<string, unknown>[] {
  if (!/^[a-z_]+$/.test(table)) throw new Error(`Not a table name: ${table}`);
  const columns = (readModels.db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map((c) => c.name);
  return readModels.db.prepare(`SELECT * FROM ${table} ORDER BY ${columns.join(', ')}`).all() as Record<string, unknown>[];
}
