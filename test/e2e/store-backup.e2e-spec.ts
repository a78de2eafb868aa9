import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, encodePosition, type EventStore } from '../../src/event-store/event-store.port';
import { verifyChain } from '../../src/event-store/hash-chain';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite.event-store';
import { startTestApp, type TestApp } from '../support/test-app';
import { storedRows } from '../support/store-file';
import { runCli } from './store-support';

const payload = (i: number) => ({ n: i, note: 'x'.repeat(1_500) });

describe('POST /api/store/backup (embedded store)', () => {
  let t: TestApp;
  let store: EventStore;

  beforeAll(async () => {
    t = await startTestApp();
    store = t.app.get<symbol, EventStore>(EVENT_STORE);
    // A store of some size (~30 MB), so that the backup takes long enough for the writer to overlap it.
    for (let batch = 0; batch < 200; batch++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, s) =>
          store.append(`bulk-${s}`, Array.from({ length: 10 }, (_e, i) => ({ id: randomUUID(), type: 'BulkWritten', data: payload(batch * 10 + i) })), {
            expectedRevision: batch === 0 ? 'no_stream' : BigInt(batch * 10 - 1),
          }),
        ),
      );
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  it('writes a consistent, private copy while a writer keeps appending, and the copy opens as a store and verifies', async () => {
    let writing = true;
    const acknowledged: number[] = [];
    const writer = (async () => {
      let revision: bigint | 'no_stream' = 'no_stream';
      while (writing) {
        const result = await store.append('writer-1', [{ id: randomUUID(), type: 'Written', data: payload(0) }], { expectedRevision: revision });
        revision = result.nextExpectedRevision;
        acknowledged.push(performance.now());
      }
    })();
    // HTTP writes too: the API keeps answering during the backup.
    const organisations = Promise.all(Array.from({ length: 10 }, (_, i) => t.request('POST', '/api/organisations', { name: `During backup ${i}` })));

    await new Promise((resolve) => setTimeout(resolve, 30));
    const started = performance.now();
    const answer = await t.request('POST', '/api/store/backup', {});
    const finished = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 30));
    writing = false;
    await writer;
    expect((await organisations).map((o) => o.status)).toEqual(Array(10).fill(201));

    expect(answer.status).toBe(201);
    const { path, events, bytes, last_position } = answer.body;
    expect(path).toMatch(new RegExp(`^${t.dataDir}/backups/towline-[0-9TZ-]+\\.db$`));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(bytes).toBe(statSync(path).size);
    expect(bytes).toBeGreaterThan(20_000_000);
    // Nothing but the backup itself in backups/ (no partial file, WAL or journal left behind).
    expect(readdirSync(join(t.dataDir, 'backups'))).toEqual([path.split('/').pop()]);
    // The writer made progress while the backup ran: it did not wait for it.
    expect(acknowledged.filter((at) => at > started && at < finished).length).toBeGreaterThan(0);

    // The copy is a prefix of the live log, exactly: the store as it stood at one commit.
    const copy = storedRows(path);
    const live = storedRows(join(t.dataDir, 'towline.db'));
    expect(copy.length).toBe(events);
    expect(copy.length).toBeGreaterThan(20_000);
    expect(live.length).toBeGreaterThan(copy.length);
    expect(copy).toEqual(live.slice(0, copy.length));
    expect(last_position).toBe(`${copy.at(-1)!.position}/${copy.at(-1)!.position}`);
    const writerEvents = copy.filter((r) => r.stream === 'writer-1').length;
    expect(writerEvents).toBeGreaterThan(0);
    expect(writerEvents).toBeLessThan(live.filter((r) => r.stream === 'writer-1').length);

    // Opened as a store (as a restore would): every stream's chain verifies, and it takes writes.
    const opened = new SqliteEventStore(path);
    try {
      const all = await opened.readAll();
      expect(all.length).toBe(events);
      expect(encodePosition((await opened.headPosition())!)).toBe(last_position);
      const streams = new Map<string, typeof all>();
      for (const event of all) streams.set(event.stream, [...(streams.get(event.stream) ?? []), event]);
      for (const [stream, chain] of streams) expect(verifyChain(chain), stream).toMatchObject({ ok: true, events: chain.length });
      const next = await opened.append('writer-1', [{ id: randomUUID(), type: 'Written', data: payload(1) }], { expectedRevision: BigInt(writerEvents - 1) });
      expect(next.nextExpectedRevision).toBe(BigInt(writerEvents));
    } finally {
      await opened.close();
    }
  });

  it('writes where the caller says inside the data directory, and refuses any path out of it or onto the live files', async () => {
    const custom = await t.request('POST', '/api/store/backup', { path: 'backups/custom/before-upgrade.db' });
    expect(custom.status).toBe(201);
    expect(custom.body.path).toBe(join(t.dataDir, 'backups/custom/before-upgrade.db'));
    expect(verifyChain((await readStreamOf(custom.body.path, 'writer-1')))).toMatchObject({ ok: true });

    const again = await t.request('POST', '/api/store/backup', { path: 'backups/custom/before-upgrade.db' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('backup_exists');

    const outside = mkdtempSync(join(tmpdir(), 'towline-outside-'));
    try {
      symlinkSync(outside, join(t.dataDir, 'escape'));
      for (const path of ['../outside.db', join(outside, 'x.db'), 'backups/../../outside.db', 'escape/x.db', 'escape/deeper/x.db', '/etc/towline.db', '.']) {
        const refused = await t.request('POST', '/api/store/backup', { path });
        expect(refused.status, path).toBe(400);
        expect(refused.body.error.code, path).toBe('backup_path_outside_data_dir');
      }
      expect(readdirSync(outside)).toEqual([]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
    for (const path of ['towline.db', 'read-models.db', 'towline.lock', 'towline.db-wal']) {
      const refused = await t.request('POST', '/api/store/backup', { path });
      expect(refused.status, path).toBe(400);
      expect(refused.body.error.code, path).toBe('backup_path_reserved');
    }
    expect((await t.request('POST', '/api/store/backup', { path: 42 })).status).toBe(400);
    expect((await t.request('POST', '/api/store/backup', { path: 'x.db', extra: true })).status).toBe(400);
    // The store took no harm from any of it.
    expect((await t.request('GET', '/health/ready', undefined, null)).status).toBe(200);
  });

  it('is the instance admin’s only: an organisation admin key gets 403, no key 401', async () => {
    const org = await t.request('POST', '/api/organisations', { name: 'Not The Instance' });
    const key = await t.request('POST', `/api/organisations/${org.body.id}/api-keys`, { name: 'org-admin', scopes: ['admin'] });
    expect(key.status).toBe(201);
    const before = readdirSync(join(t.dataDir, 'backups')).length;
    expect((await t.request('POST', '/api/store/backup', {}, key.body.key)).status).toBe(403);
    expect((await t.request('POST', '/api/store/backup', {}, null)).status).toBe(401);
    expect((await t.request('POST', '/api/store/copy', { to: 'esdb://127.0.0.1:1?tls=false' }, key.body.key)).status).toBe(403);
    expect((await t.request('GET', `/api/store/copy/${randomUUID()}`, undefined, key.body.key)).status).toBe(403);
    expect(readdirSync(join(t.dataDir, 'backups')).length).toBe(before);
  });

  it('tw-cli store backup writes one and prints where, over HTTP', async () => {
    const human = await runCli(t.url, ['store', 'backup', '--path', 'backups/from-cli.db']);
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(join(t.dataDir, 'backups/from-cli.db'));
    expect(human.stdout).toMatch(/events\s+\d+/);
    const json = await runCli(t.url, ['--json', 'store', 'backup']);
    expect(json.code).toBe(0);
    const answer = JSON.parse(json.stdout);
    expect(statSync(answer.path).size).toBe(answer.bytes);
    const outside = await runCli(t.url, ['store', 'backup', '--path', '../x.db']);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain('backup_path_outside_data_dir');
  });

  it('refuses a copy to something that is not an EventStoreDB connection string, and answers 404 for an unknown job', async () => {
    for (const to of ['http://127.0.0.1:2113', 'esdb://', 'esdb://127.0.0.1:2113?nodePreference=follower', 'esdb://127.0.0.1:2113?tls=maybe']) {
      const refused = await t.request('POST', '/api/store/copy', { to });
      expect(refused.status, to).toBe(400);
      expect(refused.body.error.code, to).toBe('invalid_connection_string');
    }
    expect((await t.request('POST', '/api/store/copy', {})).status).toBe(400);
    expect((await t.request('GET', `/api/store/copy/${randomUUID()}`)).status).toBe(404);
  });
});

describe('POST /api/store/copy to a node that does not answer', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('accepts the job, which fails copy_target_unavailable after the adapter’s bounded retries', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const started = await t.request('POST', '/api/store/copy', { to: `esdb://admin:secret@127.0.0.1:${port}?tls=false` });
    expect(started.status).toBe(202);
    expect(started.body.to).not.toContain('secret');
    let job = started;
    const deadline = Date.now() + 40_000;
    while (job.body.state !== 'failed' && job.body.state !== 'done' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      job = await t.request('GET', `/api/store/copy/${started.body.id}`);
    }
    expect(job.body).toMatchObject({ state: 'failed', report: null, error: { code: 'copy_target_unavailable' } });
    expect(job.body.finished_at).not.toBeNull();
  }, 60_000);
});

describe('POST /api/store/backup of a store whose chain is broken', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses with 500 backup_verification_failed, names the stream, and leaves no file behind', async () => {
    const store = t.app.get<symbol, EventStore>(EVENT_STORE);
    await store.append('tampered-1', [{ id: randomUUID(), type: 'Written', data: payload(1) }, { id: randomUUID(), type: 'Written', data: payload(2) }]);
    // An edit behind Towline's back, as tampering would be: the event's data no longer matches its hash.
    const file = new DatabaseSync(join(t.dataDir, 'towline.db'));
    file.prepare("UPDATE events SET data = ? WHERE stream = 'tampered-1' AND revision = 1").run(JSON.stringify(payload(3)));
    file.close();

    const answer = await t.request('POST', '/api/store/backup', {});
    expect(answer.status).toBe(500);
    expect(answer.body.error).toMatchObject({ code: 'backup_verification_failed', details: { streams: [{ stream: 'tampered-1', revision: '1' }] } });
    expect(existsSync(join(t.dataDir, 'backups')) ? readdirSync(join(t.dataDir, 'backups')) : []).toEqual([]);
  });
});

describe('POST /api/store/backup on an in-memory store', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { TW_DATA_DIR: ':memory:' }, dataDir: ':memory:' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers 409 backup_not_supported_in_memory', async () => {
    const answer = await t.request('POST', '/api/store/backup', {});
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe('backup_not_supported_in_memory');
    expect(existsSync(':memory:')).toBe(false);
  });
});

async function readStreamOf(path: string, stream: string) {
  const store = new SqliteEventStore(path);
  try {
    return await store.readStream(stream);
  } finally {
    await store.close();
  }
}
