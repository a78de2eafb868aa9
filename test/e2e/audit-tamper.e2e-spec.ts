import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { finished } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportRecords } from '../../cli/audit/export-file';
import { verifyExportFile } from '../../cli/audit/verify-file';
import { publicKeyFrom } from '../../src/audit/verification/signatures';
import { ReadSideRunner } from '../../src/cqrs/read-side.runner';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { chainHash } from '../../src/event-store/hash-chain';
import { settle } from '../fixtures/triage';
import { postWebhook } from '../fixtures/webhooks';
import type { StoredRow } from '../support/store-file';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';
import { AUDIT_SECRET, waitForJob } from './audit-support';

const SCRIPT = join(__dirname, '../../scripts/verify-audit-export.py');
const TAMPERS = ['data', 'metadata', 'deleted', 'swapped', 'inserted', 'tail', 'removed', 'rewritten', 'intact'] as const;
type Tamper = (typeof TAMPERS)[number];

/** Edits towline.db as someone with write access to the file would: plain SQL, no Towline code. */
function tamper(file: string, streams: Map<Tamper, string>, ledger: string): void {
  const db = new DatabaseSync(file);
  const rows = (stream: string) => db.prepare('SELECT * FROM events WHERE stream = ? ORDER BY revision').all(stream) as unknown as StoredRow[];
  const setRevision = db.prepare('UPDATE events SET revision = ? WHERE stream = ? AND revision = ?');
  db.exec('BEGIN');
  db.prepare(`UPDATE events SET data = json_set(data, '$.note', 'nothing happened') WHERE stream = ? AND revision = 2`).run(streams.get('data')!);
  db.prepare(`UPDATE events SET metadata = json_set(metadata, '$.actor', 'api-key:mallory') WHERE stream = ? AND revision = 2`).run(streams.get('metadata')!);
  db.prepare('DELETE FROM events WHERE stream = ? AND revision = 2').run(streams.get('deleted')!);
  const swapped = streams.get('swapped')!;
  setRevision.run(-1, swapped, 2);
  setRevision.run(2, swapped, 3);
  setRevision.run(3, swapped, -1);
  const inserted = streams.get('inserted')!;
  const original = rows(inserted);
  for (const row of [...original].reverse().filter((r) => r.revision >= 2)) setRevision.run(row.revision + 1, inserted, row.revision);
  const copy = original[1];
  db.prepare('INSERT INTO events (stream, revision, id, type, data, metadata, created) VALUES (?, 2, ?, ?, ?, ?, ?)').run(
    inserted,
    '00000000-0000-4000-8000-00000000feed',
    copy.type,
    copy.data,
    copy.metadata,
    copy.created,
  );
  db.prepare('DELETE FROM events WHERE stream = ? AND revision >= 3').run(streams.get('tail')!);
  db.prepare('DELETE FROM events WHERE stream = ?').run(streams.get('removed')!);
  // The careful forger: edit one event, then recompute every later hash of the stream by the published rule.
  const rewritten = rows(streams.get('rewritten')!);
  let prev = JSON.parse(rewritten[0].metadata).hash as string;
  for (const row of rewritten.slice(1)) {
    const data = JSON.parse(row.data);
    if (row.revision === 1) data.note = 'rewritten';
    const metadata = JSON.parse(row.metadata);
    metadata.hash = chainHash(prev, { stream: row.stream, revision: BigInt(row.revision), id: row.id, type: row.type, data, metadata });
    prev = metadata.hash;
    db.prepare('UPDATE events SET data = ?, metadata = ? WHERE position = ?').run(JSON.stringify(data), JSON.stringify(metadata), row.position);
  }
  // And the forger who also edits the ledger's checkpoint and recomputes the ledger's chain: the signature stays.
  const checkpoints = rows(ledger);
  let ledgerPrev = '0'.repeat(64);
  for (const row of checkpoints) {
    const data = JSON.parse(row.data);
    if (row.revision === 1) data.streams = [];
    const metadata = JSON.parse(row.metadata);
    metadata.hash = chainHash(ledgerPrev, { stream: row.stream, revision: BigInt(row.revision), id: row.id, type: row.type, data, metadata });
    ledgerPrev = metadata.hash;
    db.prepare('UPDATE events SET data = ?, metadata = ? WHERE position = ?').run(JSON.stringify(data), JSON.stringify(metadata), row.position);
  }
  db.exec('COMMIT');
  db.close();
}

describe('audit: verification names every tamper made to the SQLite file', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'towline-tamper-'));
  const streams = new Map<Tamper, string>();
  const heads = new Map<Tamper, number>();
  let t: TestApp;
  let org: { id: string; auditor: string };

  beforeAll(async () => {
    t = await startTestApp({ dataDir });
    const created = await t.request('POST', '/api/organisations', { name: 'Tampered' });
    const admin = await t.request('POST', `/api/organisations/${created.body.id}/api-keys`, { name: 'admin', scopes: ['admin'] });
    const auditor = await t.request('POST', `/api/organisations/${created.body.id}/api-keys`, { name: 'auditor', scopes: ['audit:read'] });
    org = { id: created.body.id, auditor: auditor.body.key };
    expect((await t.request('POST', '/api/webhooks', { source: 'tamper-siem', secret: AUDIT_SECRET }, admin.body.key)).status).toBe(201);
    for (const kind of TAMPERS) {
      const answer = await postWebhook(t.url, 'tamper-siem', AUDIT_SECRET, { event_type: 'security_alert', data: { alert_id: `t-${kind}`, severity: 'medium' } });
      expect(answer.status).toBe(202);
      const id = answer.body.incident_id;
      // Six events a stream, so that a tamper at revision 2 has events on both sides.
      for (const [path, body] of [['acknowledge'], ['resolve', { resolution: 'mitigated' }], ['verify', { passed: false }], ['resolve', { resolution: 'mitigated' }], ['close', { reason: 'false_positive' }]] as const) {
        expect((await t.request('POST', `/api/incidents/${id}/${path}`, body, admin.body.key)).status, `${kind} ${path}`).toBe(200);
      }
      streams.set(kind, `incident-${id}`);
    }
    const store = t.app.get<symbol, EventStore>(EVENT_STORE);
    await settle(store);
    const taken = await t.request('POST', '/api/audit/checkpoints');
    expect(taken.status).toBe(201);
    expect(taken.body.checkpoints.map((c: any) => c.ledger)).toContain(`ledger-${org.id}`);
    // A second checkpoint, the one the forger will edit: one more incident since the first.
    const later = await postWebhook(t.url, 'tamper-siem', AUDIT_SECRET, { event_type: 'security_alert', data: { alert_id: 't-later', severity: 'low' } });
    expect(later.status).toBe(202);
    await settle(store);
    expect((await t.request('POST', '/api/audit/checkpoints')).body.checkpoints.map((c: any) => c.ledger)).toContain(`ledger-${org.id}`);
    for (const [kind, stream] of streams) heads.set(kind, Number((await store.readStream(stream, { direction: 'backwards', maxCount: 1 }))[0].revision));
    const before = await waitForJob(t, `/api/audit/verify/${(await t.request('POST', '/api/audit/verify', { all: true })).body.id}`);
    expect(before.result).toMatchObject({ ok: true, breaks: [] });
    await t.close();

    tamper(join(dataDir, 'towline.db'), streams, `ledger-${org.id}`);
    t = await startTestApp({ dataDir });
    const readSide = t.app.get(ReadSideRunner);
    await readSide.catchUp(readSide.consumerNames(), (await t.app.get<symbol, EventStore>(EVENT_STORE).headPosition())!);
  }, 90_000);
  afterAll(async () => {
    await t?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const expected = () => [
    { stream: streams.get('data'), revision: 2, kind: 'data_changed' },
    { stream: streams.get('metadata'), revision: 2, kind: 'metadata_changed' },
    { stream: streams.get('deleted'), revision: 2, kind: 'deleted' },
    { stream: streams.get('swapped'), revision: 2, kind: 'swapped' },
    { stream: streams.get('inserted'), revision: 2, kind: 'inserted' },
    { stream: streams.get('tail'), revision: heads.get('tail'), kind: 'truncated' },
    { stream: streams.get('removed'), revision: null, kind: 'stream_missing' },
    { stream: streams.get('rewritten'), revision: heads.get('rewritten'), kind: 'checkpoint_mismatch' },
    { stream: `ledger-${org.id}`, revision: 1, kind: 'signature_invalid' },
  ];
  const summary = (breaks: any[]) =>
    breaks.map(({ stream, revision, kind }) => ({ stream, revision, kind })).sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
  const sorted = (list: any[]) => [...list].sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));

  it('finds and names each of them in a whole-log run, for the instance admin and the organisation', async () => {
    for (const key of [ADMIN_KEY, org.auditor]) {
      const started = await t.request('POST', '/api/audit/verify', { all: true }, key);
      expect(started.status).toBe(202);
      const job = await waitForJob(t, `/api/audit/verify/${started.body.id}`, key);
      expect(job.state).toBe('done');
      expect(job.result.ok).toBe(false);
      expect(summary(job.result.breaks)).toEqual(sorted(expected()));
      for (const b of job.result.breaks) expect(b.detail).toEqual(expect.any(String));
      expect(streams.get('intact') && job.result.breaks.some((b: any) => b.stream === streams.get('intact'))).toBe(false);
    }
  });

  it('names each of them when one stream is verified', async () => {
    for (const broken of expected().filter((b) => b.stream!.startsWith('incident-'))) {
      const verified = await t.request('POST', '/api/audit/verify', { stream: broken.stream }, org.auditor);
      expect(verified.status, broken.kind).toBe(200);
      expect(verified.body.ok).toBe(false);
      // The ledger's forged checkpoint is reported beside the stream's own break.
      expect(summary(verified.body.breaks).filter((b) => b.stream === broken.stream), broken.kind).toEqual([broken]);
    }
    const intact = await t.request('POST', '/api/audit/verify', { stream: streams.get('intact') }, org.auditor);
    expect(summary(intact.body.breaks).filter((b) => b.stream === streams.get('intact'))).toEqual([]);
  });

  it('finds the same in an export verified offline, by tw-cli’s verifier and by the Python script', async () => {
    const file = join(dataDir, 'export.ndjson');
    const out = createWriteStream(file);
    const count = await exportRecords(new URL(`${t.url}/`), org.auditor, {}, out);
    await finished(out);
    expect(count).toBeGreaterThan(50);
    const key = (await t.request('GET', '/api/audit/public-key', undefined, org.auditor)).body.public_key;
    const offline = await verifyExportFile(file, { publicKey: publicKeyFrom(key) });
    expect(offline.partial).toBe(false);
    expect(offline.key).toBe('pinned');
    expect(summary(offline.breaks)).toEqual(sorted(expected()));

    let python: any;
    try {
      execFileSync('python3', [SCRIPT, file, '--public-key', key], { encoding: 'utf8' });
    } catch (error: any) {
      expect(error.status).toBe(1);
      python = JSON.parse(error.stdout);
    }
    expect(python.ok).toBe(false);
    // The script names fewer kinds (a broken chain is "chain_broken"), at the same streams.
    expect(new Set(python.breaks.map((b: any) => b.stream))).toEqual(new Set(expected().map((b) => b.stream)));
    expect(python.breaks.find((b: any) => b.stream === streams.get('removed')).kind).toBe('stream_missing');
    expect(python.breaks.find((b: any) => b.stream === streams.get('tail')).kind).toBe('truncated');
    expect(python.breaks.find((b: any) => b.stream === streams.get('rewritten')).kind).toBe('checkpoint_mismatch');
    expect(python.breaks.find((b: any) => b.stream === `ledger-${org.id}`).kind).toBe('signature_invalid');
  });
});
