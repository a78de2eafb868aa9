import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { once } from 'node:events';
import { AuditReader } from '../src/audit/audit-reader.service';
import { AuditScope } from '../src/audit/audit-scope';
import { AuditVerifier } from '../src/audit/audit-verifier.service';
import { AuditStreamsProjection } from '../src/audit/projections/audit-streams.projection';
import { AuditSigningKey } from '../src/audit/signing-key';
import { jcs, withoutHash } from '../src/event-store/hash-chain';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite.event-store';
import { ReadModelDatabase } from '../src/read-model/read-model.database';

/**
 * One measurement of the audit benchmark per process (`node dist/bench/audit-child.js <role> <towline.db> <out>`),
 * so that its peak RSS is its own. Reports {events, seconds, peakRssMib} to the parent over IPC.
 */
const PAGE = 1_000;
const ADMIN = { kind: 'admin' } as const;

async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

const roles: Record<string, (file: string, outFile: string) => Promise<number>> = {
  /** The least an export must do: read every row in pages, parse it, write it as one JSON line. */
  async 'export-baseline'(file, outFile) {
    const db = new DatabaseSync(file, { readOnly: true });
    const page = db.prepare('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?');
    const out = createWriteStream(outFile);
    let events = 0;
    for (let after = 0; ; ) {
      const rows = page.all(after, PAGE) as { position: number; stream: string; revision: number; id: string; type: string; data: string; metadata: string; created: number }[];
      let chunk = '';
      for (const row of rows) {
        const record = { ...row, data: JSON.parse(row.data) as unknown, metadata: JSON.parse(row.metadata) as unknown, created: new Date(row.created).toISOString() };
        chunk += JSON.stringify(record) + '\n';
      }
      await write(out, chunk);
      events += rows.length;
      if (rows.length < PAGE) break;
      after = rows[rows.length - 1].position;
    }
    out.end();
    await once(out, 'finish');
    db.close();
    return events;
  },

  /** Towline's export: the audit reader's record stream of the whole log (prev included), as NDJSON. */
  async export(file, outFile) {
    const store = new SqliteEventStore(file);
    const index = new AuditStreamsProjection(new ReadModelDatabase(':memory:'));
    const reader = new AuditReader(store, new AuditScope(store, index), index);
    const out = createWriteStream(outFile);
    let events = 0;
    for await (const page of reader.allRecords(ADMIN, undefined)) {
      await write(out, page.map((record) => JSON.stringify(record) + '\n').join(''));
      events += page.length;
    }
    out.end();
    await once(out, 'finish');
    await store.close();
    return events;
  },

  /** The least a verification must do: every row's RFC 8785 canonical form and SHA-256, as the hash rule has it. */
  async 'verify-baseline'(file) {
    const db = new DatabaseSync(file, { readOnly: true });
    const page = db.prepare('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?');
    let events = 0;
    let checksum = 0;
    for (let after = 0; ; ) {
      const rows = page.all(after, PAGE) as { position: number; stream: string; revision: number; id: string; type: string; data: string; metadata: string }[];
      for (const row of rows) {
        const metadata = JSON.parse(row.metadata) as Record<string, never>;
        const content = [metadata.hash, row.stream, String(row.revision), row.id, row.type, jcs(JSON.parse(row.data)), jcs(withoutHash(metadata))].join('\n');
        checksum += createHash('sha256').update(content, 'utf8').digest()[0];
      }
      events += rows.length;
      if (rows.length < PAGE) break;
      after = rows[rows.length - 1].position;
    }
    db.close();
    if (checksum === 0 && events > 0) throw new Error('hashed nothing');
    return events;
  },

  /** Towline's whole-log verification as POST /api/audit/verify {all: true} runs it for the instance admin. */
  async verify(file) {
    const store = new SqliteEventStore(file);
    const index = new AuditStreamsProjection(new ReadModelDatabase(':memory:'));
    const verifier = new AuditVerifier(store, AuditSigningKey.resolve(undefined, ':memory:').key, new AuditScope(store, index));
    const progress = { events: 0, position: null, head: null };
    const result = await verifier.verifyAll(ADMIN, progress);
    await store.close();
    if (!result.ok) throw new Error(`the store does not verify: ${JSON.stringify(result.breaks.slice(0, 3))}`);
    return result.events_checked;
  },
};

const [role, file, outFile] = process.argv.slice(2);
const run = roles[role ?? ''];
if (!run || !process.send) {
  console.error(`usage: forked by bench/audit.bench.ts with one of: ${Object.keys(roles).join(', ')}`);
  process.exit(2);
}
const started = process.hrtime.bigint();
run(file, outFile).then(
  (events) => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    process.send!({ events, seconds, peakRssMib: process.resourceUsage().maxRSS / 1024 }, () => process.exit(0));
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
