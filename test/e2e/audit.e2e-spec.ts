import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportRecords, type ExportOptions } from '../../cli/audit/export-file';
import { verifyExportFile } from '../../cli/audit/verify-file';
import { publicKeyFrom } from '../../src/audit/verification/signatures';
import { ReadSideRunner } from '../../src/cqrs/read-side.runner';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { GENESIS_HASH, chainHash } from '../../src/event-store/hash-chain';
import { settle } from '../fixtures/triage';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';
import { ndjson, twoOrganisations, waitForJob } from './audit-support';

describe('audit: reading the log', () => {
  let t: TestApp;
  let orgs: Awaited<ReturnType<typeof twoOrganisations>>;

  beforeAll(async () => {
    t = await startTestApp();
    orgs = await twoOrganisations(t);
    const store = t.app.get<symbol, EventStore>(EVENT_STORE);
    await settle(store);
    const readSide = t.app.get(ReadSideRunner);
    await readSide.catchUp(readSide.consumerNames(), (await store.headPosition())!);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('stamps every new event with its organisation and a digest of its data', async () => {
    const { records } = await ndjson(t, '/api/audit/all', ADMIN_KEY);
    const incidentEvents = records.filter((r) => r.stream === `incident-${orgs.a.incidents[0]}`);
    expect(incidentEvents.length).toBeGreaterThan(0);
    for (const record of incidentEvents) expect(record.metadata.organisationId).toBe(orgs.a.id);
    const orgEvents = records.filter((r) => r.stream !== 'instance-settings' && !r.stream.startsWith('sourceName-'));
    expect(orgEvents.every((r) => typeof r.metadata.organisationId === 'string')).toBe(true);
    expect(records.every((r) => /^[0-9a-f]{64}$/.test(r.metadata.data_hash))).toBe(true);
    expect(records.filter((r) => r.stream === 'instance-settings').every((r) => r.metadata.organisationId === undefined)).toBe(true);
  });

  it('lists an organisation’s streams with their heads, and only its own', async () => {
    const listed = await t.request('GET', '/api/audit/streams?limit=1000', undefined, orgs.a.auditor);
    expect(listed.status).toBe(200);
    const names = listed.body.items.map((s: any) => s.stream);
    expect(names).toEqual(expect.arrayContaining(orgs.a.incidents.map((id) => `incident-${id}`)));
    expect(names.some((n: string) => orgs.b.incidents.some((id) => n === `incident-${id}`))).toBe(false);
    expect(names).not.toContain('instance-settings');
    expect(listed.body.items.every((s: any) => s.organisation_id === orgs.a.id && /^[0-9a-f]{64}$/.test(s.hash))).toBe(true);

    // Pages with a cursor, and a prefix.
    const first = await t.request('GET', '/api/audit/streams?prefix=incident-&limit=2', undefined, orgs.a.auditor);
    expect(first.body.items).toHaveLength(2);
    const second = await t.request('GET', `/api/audit/streams?prefix=incident-&limit=2&cursor=${first.body.next_cursor}`, undefined, orgs.a.auditor);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.next_cursor).toBeNull();

    const admin = await t.request('GET', '/api/audit/streams?prefix=instance-');
    expect(admin.body.items.map((s: any) => s.stream)).toContain('instance-settings');
    expect(admin.body.items.find((s: any) => s.stream === 'instance-settings').organisation_id).toBeNull();
  });

  it('pages a stream with revisions, positions and prev, forwards and backwards', async () => {
    const stream = `incident-${orgs.a.incidents[0]}`;
    const page = await t.request('GET', `/api/audit/streams/${stream}?limit=1`, undefined, orgs.a.auditor);
    expect(page.status).toBe(200);
    const [first] = page.body.items;
    expect(first).toMatchObject({ stream, revision: 0, prev: GENESIS_HASH, type: 'IncidentOpened' });
    expect(Object.keys(first).sort()).toEqual(['created', 'data', 'id', 'metadata', 'position', 'prev', 'revision', 'stream', 'type']);
    expect(first.metadata.hash).toBe(chainHash(GENESIS_HASH, { ...first, revision: 0n }));
    expect(page.body.next_cursor).toBe('1');
    const next = await t.request('GET', `/api/audit/streams/${stream}?from=1&limit=100`, undefined, orgs.a.auditor);
    expect(next.body.items[0]).toMatchObject({ revision: 1, prev: first.metadata.hash });
    const backwards = await t.request('GET', `/api/audit/streams/${stream}?direction=backwards`, undefined, orgs.a.auditor);
    const revisions = backwards.body.items.map((r: any) => r.revision);
    expect(revisions).toEqual([...revisions].sort((x: number, y: number) => y - x));
    expect(backwards.body.items.at(-1)).toMatchObject({ revision: 0, prev: GENESIS_HASH });
    expect(backwards.body.items[0].prev).toBe(backwards.body.items[1].metadata.hash);
  });

  it('streams NDJSON of a stream and of the whole log, confined to the organisation', async () => {
    const stream = `incident-${orgs.b.incidents[1]}`;
    const one = await ndjson(t, `/api/audit/streams/${stream}`, orgs.b.auditor);
    expect(one.status).toBe(200);
    expect(one.contentType).toMatch(/^application\/x-ndjson/);
    expect(one.records.map((r) => r.revision)).toEqual(one.records.map((_, i) => i));

    const all = await ndjson(t, '/api/audit/all', orgs.b.auditor);
    expect(all.records.length).toBeGreaterThan(10);
    expect(new Set(all.records.map((r) => r.metadata.organisationId))).toEqual(new Set([orgs.b.id]));
    const positions = all.records.map((r) => Number(r.position.split('/')[0]));
    expect(positions).toEqual([...positions].sort((x, y) => x - y));

    // JSON pages of the whole log follow each other through next_cursor.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await t.request('GET', `/api/audit/all?limit=7${cursor ? `&from=${cursor}` : ''}`, undefined, orgs.b.auditor);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((r: any) => r.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all.records.map((r) => r.id));
  });

  it('answers another organisation’s stream, or an instance stream, like a missing one', async () => {
    for (const stream of [`incident-${orgs.b.incidents[0]}`, 'instance-settings', 'incident-nope']) {
      const got = await t.request('GET', `/api/audit/streams/${stream}`, undefined, orgs.a.auditor);
      expect(got.status, stream).toBe(404);
      expect(got.body.error.code).toBe('not_found');
      const verified = await t.request('POST', '/api/audit/verify', { stream }, orgs.a.auditor);
      expect(verified.status, stream).toBe(404);
    }
    expect((await t.request('GET', '/api/audit/streams/instance-settings')).status).toBe(200);
  });

  it('refuses keys without audit:read on every audit route, and requests without a key', async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', '/api/audit/streams'],
      ['GET', `/api/audit/streams/incident-${orgs.a.incidents[0]}`],
      ['GET', '/api/audit/all'],
      ['POST', '/api/audit/verify', { all: true }],
      ['GET', '/api/audit/verify/00000000-0000-4000-8000-000000000000'],
      ['POST', '/api/audit/checkpoints'],
      ['GET', '/api/audit/public-key'],
      ['POST', '/api/audit/replay', {}],
      ['GET', '/api/audit/replay/00000000-0000-4000-8000-000000000000'],
      ['GET', '/api/audit/trace/00000000-0000-4000-8000-000000000000'],
    ];
    for (const [method, path, body] of routes) {
      const refused = await t.request(method, path, body, orgs.a.reader);
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect((await t.request(method, path, body, null)).status, `${method} ${path}`).toBe(401);
    }
  });

  it('refuses bad parameters with invalid_request', async () => {
    for (const path of ['/api/audit/all?from=abc', '/api/audit/all?limit=0', '/api/audit/streams?limit=5000', '/api/audit/all?since=yesterday']) {
      const bad = await t.request('GET', path, undefined, orgs.a.auditor);
      expect(bad.status, path).toBe(400);
      expect(bad.body.error.code).toBe('invalid_request');
    }
    for (const body of [{}, { all: false }, { stream: 'x', all: true }, { stream: 5 }]) {
      const bad = await t.request('POST', '/api/audit/verify', body, orgs.a.auditor);
      expect(bad.status, JSON.stringify(body)).toBe(400);
    }
  });

  it('verifies a stream at once and the organisation’s whole log as a job', async () => {
    const one = await t.request('POST', '/api/audit/verify', { stream: `incident-${orgs.a.incidents[0]}` }, orgs.a.auditor);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ streams_checked: 1, ok: true, breaks: [] });
    expect(one.body.events_checked).toBeGreaterThan(0);

    const started = await t.request('POST', '/api/audit/verify', { all: true }, orgs.a.auditor);
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ kind: 'verify', state: 'running' });
    // Another organisation cannot see the job.
    expect((await t.request('GET', `/api/audit/verify/${started.body.id}`, undefined, orgs.b.auditor)).status).toBe(404);
    const job = await waitForJob(t, `/api/audit/verify/${started.body.id}`, orgs.a.auditor);
    expect(job.state).toBe('done');
    expect(job.result).toMatchObject({ ok: true, breaks: [] });
    const all = await ndjson(t, '/api/audit/all', orgs.a.auditor);
    expect(job.result.events_checked).toBe(all.records.length);
    expect(job.progress.events).toBe(all.records.length);
  });

  it('takes signed checkpoints, each organisation seeing its own', async () => {
    const taken = await t.request('POST', '/api/audit/checkpoints', undefined, orgs.a.auditor);
    expect(taken.status).toBe(201);
    const ledgers = taken.body.checkpoints.map((c: any) => c.ledger);
    expect(ledgers).toEqual([`ledger-${orgs.a.id}`]);
    const key = await t.request('GET', '/api/audit/public-key', undefined, orgs.a.auditor);
    expect(key.body).toMatchObject({ algorithm: 'Ed25519', key_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const ledger = await t.request('GET', `/api/audit/streams/ledger-${orgs.a.id}`, undefined, orgs.a.auditor);
    expect(ledger.status).toBe(200);
    const checkpoint = ledger.body.items[0];
    expect(checkpoint.data).toMatchObject({ organisationId: orgs.a.id, sequence: 1, publicKey: key.body.public_key });
    expect(checkpoint.data.streams.map((s: any) => s.stream)).toEqual(expect.arrayContaining(orgs.a.incidents.map((id) => `incident-${id}`)));
    expect((await t.request('GET', `/api/audit/streams/ledger-${orgs.a.id}`, undefined, orgs.b.auditor)).status).toBe(404);
    // Nothing changed since: no new checkpoint.
    const again = await t.request('POST', '/api/audit/checkpoints');
    expect(again.body.checkpoints.filter((c: any) => c.ledger === `ledger-${orgs.a.id}`)).toEqual([]);
  });

  it('exports to NDJSON that verifies offline, whole or from an anchor, with tw-cli’s verifier and the Python script alike', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'towline-export-'));
    try {
      await t.request('POST', '/api/audit/checkpoints');
      const key = (await t.request('GET', '/api/audit/public-key')).body.public_key;
      const python = (file: string, ...args: string[]) => JSON.parse(execFileSync('python3', [join(__dirname, '../../scripts/verify-audit-export.py'), file, ...args], { encoding: 'utf8' }));
      const exported = async (name: string, options: ExportOptions, apiKey = ADMIN_KEY) => {
        const file = join(dir, name);
        const out = createWriteStream(file);
        const progress: number[] = [];
        const count = await exportRecords(new URL(`${t.url}/`), apiKey, { ...options, onProgress: (p) => progress.push(p.records) }, out);
        await finished(out);
        expect(progress.at(-1)).toBe(count);
        return { file, count };
      };

      const all = await exported('all.ndjson', {});
      const offline = await verifyExportFile(all.file, { publicKey: publicKeyFrom(key) });
      expect(offline).toMatchObject({ ok: true, partial: false, key: 'pinned', breaks: [], records: all.count });
      expect(offline.checkpoints.length).toBeGreaterThanOrEqual(2); // the organisations' ledgers, and the instance's
      expect(python(all.file, '--public-key', key)).toMatchObject({ ok: true, partial: false, records: all.count, key: 'pinned' });
      expect(python(all.file).checkpoints).toBe(offline.checkpoints.reduce((n, c) => n + c.sequence, 0));

      // An organisation's export holds its own streams and ledger only, and verifies on its own.
      const mine = await exported('alpha.ndjson', {}, orgs.a.auditor);
      expect(await verifyExportFile(mine.file)).toMatchObject({ ok: true, partial: false, key: 'embedded' });

      // One stream from a revision, and the log since a time: anchored on the prev of their first records.
      const stream = `incident-${orgs.a.incidents[0]}`;
      const tail = await exported('tail.ndjson', { stream, fromRevision: 1 });
      const anchored = await verifyExportFile(tail.file);
      expect(anchored).toMatchObject({ ok: true, partial: true, anchored: [{ stream, from_revision: 1 }] });
      expect(python(tail.file)).toMatchObject({ ok: true, partial: true, anchored: [[stream, 1]] });
      const lines = readFileSync(all.file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const since = lines[Math.floor(lines.length / 2)].created;
      const recent = await exported('since.ndjson', { since });
      expect(recent.count).toBeLessThan(all.count);
      expect(await verifyExportFile(recent.file)).toMatchObject({ ok: true, partial: true });
      expect(python(recent.file)).toMatchObject({ ok: true, partial: true });

      // One changed byte of one record, and both verifiers say where.
      const target = lines.findIndex((r) => r.stream === stream && r.revision === 1);
      lines[target].data = { ...lines[target].data, injected: true };
      const edited = join(dir, 'edited.ndjson');
      writeFileSync(edited, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      const caught = await verifyExportFile(edited);
      expect(caught.ok).toBe(false);
      expect(caught.breaks).toEqual([expect.objectContaining({ stream, revision: 1, kind: 'data_changed' })]);
      let status = 0;
      try {
        python(edited);
      } catch (error: any) {
        status = error.status;
        expect(JSON.parse(error.stdout).breaks).toEqual([expect.objectContaining({ stream, revision: 1 })]);
      }
      expect(status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
