import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReadSideRunner } from '../../src/cqrs/read-side.runner';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { READ_MODEL_DATABASE, tableRows, type ReadModelDatabase } from '../../src/read-model/read-model.database';
import { postWebhook } from '../fixtures/webhooks';
import { startServerProcess } from '../support/server-process';
import { ADMIN_KEY, startTestApp } from '../support/test-app';

const SECRET = 'crash-secret-1';
const dir = mkdtempSync(join(tmpdir(), 'towline-read-side-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };

/**
 * The read side's transactional promise: a projection's rows and its checkpoint commit together, so a process
 * killed in the middle of a batch leaves read models that, once caught up after the restart, are exactly what a
 * rebuild from position zero gives — no event applied twice, none skipped.
 */
describe('the read side killed mid-batch', () => {
  it('resumes to read models equal to a rebuild from zero', async () => {
    const server = await startServerProcess({ TW_DATA_DIR: dir, TW_ADMIN_KEY: ADMIN_KEY });
    const registered = await fetch(`${server.url}/api/webhooks`, { method: 'POST', headers: admin, body: JSON.stringify({ source: 'edr', secret: SECRET }) });
    expect(registered.status).toBe(201);

    // A flood of new incidents, repeats and lifecycle changes, killed while the read side is busy with it.
    let stop = false;
    let accepted = 0;
    const flood = Promise.all(
      Array.from({ length: 16 }, async (_, worker) => {
        for (let i = 0; !stop; i++) {
          try {
            const answer = await postWebhook(server.url, 'edr', SECRET, {
              event_type: 'security_alert',
              data: { alert_id: `crash-${worker}-${i % 7}`, severity: i % 3 === 0 ? 'critical' : 'medium', details: { host: `h-${worker}` } },
            });
            if (answer.status !== 202) continue;
            accepted += 1;
            if (i % 5 === 0) {
              await fetch(`${server.url}/api/incidents/${answer.body.incident_id}/acknowledge`, { method: 'POST', headers: admin });
            }
          } catch {
            return; // the server is gone
          }
        }
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    server.child.kill('SIGKILL');
    stop = true;
    await Promise.all([server.exited, flood]);
    expect(accepted).toBeGreaterThan(20);

    const t = await startTestApp({ dataDir: dir });
    try {
      const store = t.app.get<symbol, EventStore>(EVENT_STORE);
      const readSide = t.app.get(ReadSideRunner);
      await readSide.catchUp(readSide.consumerNames(), (await store.headPosition())!, 20_000);
      const rebuilt = await readSide.rebuild({ upTo: readSide.projectionPositions() });
      const live = t.app.get<symbol, ReadModelDatabase>(READ_MODEL_DATABASE);
      live.flush();
      for (const table of rebuilt.projections.flatMap((p) => p.tables)) {
        expect(tableRows(live, table), table).toEqual(tableRows(rebuilt.database, table));
      }
      expect(tableRows(live, 'incident_list').length).toBeGreaterThan(0);
      expect(readSide.parkedEvents()).toEqual([]);
      rebuilt.database.close();
    } finally {
      await t.close();
    }
  });
});
