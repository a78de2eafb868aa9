import { Inject, Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ReadSideRunner } from '../cqrs/read-side.runner';
import { decodePosition, type Position } from '../event-store/event-store.port';
import { READ_MODEL_DATABASE, ReadModelDatabase, tableName } from '../read-model/read-model.database';
import type { JobProgress } from './audit-jobs';

const SAMPLE_DIFFS = 5;

export interface ProjectionComparison {
  name: string;
  /** Rows of its tables in the live read model, at the position compared. */
  rows: number;
  rebuilt_rows: number;
  equal: boolean;
  /** Events the rebuild skipped because they failed (the live engine parks those). */
  failed: number;
  tables: { name: string; rows: number; equal: boolean }[];
  sample_diffs: { table: string; live: Record<string, unknown> | null; rebuilt: Record<string, unknown> | null }[];
}

export interface Replay {
  events: number;
  projections: ProjectionComparison[];
}

/**
 * Replay: the read-side engine rebuilds every projection from position zero into a scratch database, each up to
 * the position its live read model stood at when the replay started, and audit compares the two. The live
 * side is read through a second connection that holds one read transaction for the whole run — a snapshot of
 * the tables and of the checkpoints they agree with — so ingest and the live read models go on meanwhile.
 */
@Injectable()
export class AuditReplay {
  constructor(
    private readonly readSide: ReadSideRunner,
    @Inject(READ_MODEL_DATABASE) private readonly readModels: ReadModelDatabase,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async run(progress: JobProgress): Promise<Replay> {
    // In memory (tests of units only) there is no second connection: the live tables are read as they are.
    const snapshot = this.config.dataDir === ':memory:' ? this.readModels.db : new DatabaseSync(join(this.config.dataDir, 'read-models.db'), { readOnly: true });
    const own = snapshot !== this.readModels.db;
    try {
      if (own) snapshot.exec('BEGIN');
      const upTo = this.positions(snapshot);
      const head = [...upTo.values()].reduce<Position | null>((a, b) => (!a || b.commit > a.commit ? b : a), null);
      progress.head = head ? `${head.commit}/${head.prepare}` : null;
      const rebuilt = await this.readSide.rebuild({ upTo, yieldBetweenPages: true, onProgress: (events) => (progress.events = events) });
      try {
        const projections = rebuilt.projections.map((p) => compare(p.name, p.tables, p.failed, snapshot, rebuilt.database.db));
        return { events: rebuilt.events, projections };
      } finally {
        rebuilt.database.close();
      }
    } finally {
      if (own) {
        if (snapshot.isTransaction) snapshot.exec('COMMIT');
        snapshot.close();
      }
    }
  }

  /** Each projection's stored checkpoint in the snapshot; one that never stored any is compared empty. */
  private positions(snapshot: DatabaseSync): Map<string, Position> {
    const stored = new Map(
      (snapshot.prepare('SELECT consumer, position FROM checkpoints').all() as { consumer: string; position: string }[]).map((row) => [
        row.consumer,
        decodePosition(row.position),
      ]),
    );
    const positions = new Map<string, Position>();
    for (const name of this.readSide.projectionPositions().keys()) positions.set(name, stored.get(name) ?? { commit: 0n, prepare: 0n });
    return positions;
  }
}

function compare(name: string, tables: string[], failed: number, live: DatabaseSync, rebuilt: DatabaseSync): ProjectionComparison {
  const result: ProjectionComparison = { name, rows: 0, rebuilt_rows: 0, equal: true, failed, tables: [], sample_diffs: [] };
  for (const table of tables) {
    const columns = (live.prepare(`SELECT name FROM pragma_table_info('${tableName(table)}')`).all() as { name: string }[]).map((c) => c.name);
    const query = `SELECT * FROM ${table} ORDER BY ${columns.map((c) => `"${c}"`).join(', ')}`;
    // Both sides in the same order, row by row: memory stays flat whatever the size of the table.
    const a = live.prepare(query).iterate() as Iterator<Record<string, unknown>>;
    const b = rebuilt.prepare(query).iterate() as Iterator<Record<string, unknown>>;
    let rows = 0;
    let equal = true;
    for (;;) {
      const x = a.next();
      const y = b.next();
      if (x.done && y.done) break;
      if (!x.done) rows += 1;
      if (!y.done) result.rebuilt_rows += 1;
      if (x.done || y.done || JSON.stringify(x.value) !== JSON.stringify(y.value)) {
        equal = false;
        if (result.sample_diffs.length < SAMPLE_DIFFS) result.sample_diffs.push({ table, live: x.done ? null : { ...x.value }, rebuilt: y.done ? null : { ...y.value } });
      }
    }
    result.rows += rows;
    result.equal &&= equal;
    result.tables.push({ name: table, rows, equal });
  }
  return result;
}
