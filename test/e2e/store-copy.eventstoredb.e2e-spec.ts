import { EventStoreDBClient, FORWARDS, START, jsonEvent } from '@eventstore/db-client';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain, type ChainLink } from '../../src/event-store/hash-chain';
import { postWebhook } from '../fixtures/webhooks';
import { storedRows } from '../support/store-file';
import { startTestApp, type TestApp } from '../support/test-app';
import { runCli } from './store-support';
import { connectionString, describeSkipped, fakeControl, fakeScript, startOwnFake, type OwnFake } from '../eventstoredb/support';

/**
 * `POST /api/store/copy`: the embedded store copied to EventStoreDB after a mixed workload, read back
 * independently (node:sqlite on the source file, `@eventstore/db-client` on the target) and compared event by
 * event; then Towline started on the copy.
 *
 * Where it runs: against a node of the user's when EVENTSTORE_CONNECTION_STRING is set outside CI (no
 * ESDB_FAKE_CONTROL_URL beside it); otherwise against a protocol fake of its own (the copy needs a node on
 * which none of the source's streams exist, and `instance-settings` is on every Towline node, so the fake
 * the other suites share would not do); skipped when neither is available.
 */
const userNode = connectionString && !fakeControl ? connectionString : undefined;
const SUITE = userNode ? 'store copy to EventStoreDB (EVENTSTORE_CONNECTION_STRING)' : 'store copy to EventStoreDB, against the protocol fake';

const SECRET = 'copy-secret-123456';
const MASTER_KEY = 'c'.repeat(64);

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const alert = (id: string, severity: string, host: string) => ({
  event_type: 'security_alert',
  timestamp: '2024-01-15T10:00:00Z',
  data: { alert_id: id, severity, title: `Copy ${id}`, host },
});

/** Every non-system event of the target's $all, in its order, through the client itself. */
async function targetLog(target: string): Promise<{ stream: string; revision: bigint; id: string; type: string; data: unknown; metadata: unknown }[]> {
  const client = EventStoreDBClient.connectionString(target);
  try {
    const events = [];
    for await (const resolved of client.readAll({ direction: FORWARDS, fromPosition: START, maxCount: 1_000_000 })) {
      const event = resolved.event;
      if (!event || event.streamId.startsWith('$') || event.type.startsWith('$')) continue;
      expect(event.isJson).toBe(true);
      events.push({ stream: event.streamId, revision: event.revision, id: event.id, type: event.type, data: event.data, metadata: event.metadata });
    }
    return events;
  } finally {
    await client.dispose();
  }
}

if (!userNode && !fakeScript) {
  describeSkipped(`${SUITE}: neither the protocol fake (../shared/tools/esdb-fake) nor EVENTSTORE_CONNECTION_STRING is available`);
} else {
  describe(SUITE, () => {
    let fake: OwnFake | undefined;
    let target: string;
    let source: TestApp;
    let moved: TestApp | undefined;
    let otherOrg: string;
    let incidentsBefore: any[];

    beforeAll(async () => {
      fake = userNode ? undefined : await startOwnFake();
      target = userNode ?? fake!.connectionString;
      source = await startTestApp({ env: { TW_MASTER_KEY: MASTER_KEY } });

      // A mixed workload: organisations, sources, signed alerts grouped into incidents, a triage-free change.
      const org = await source.request('POST', '/api/organisations', { name: 'Copy Corp' });
      expect(org.status).toBe(201);
      otherOrg = org.body.id;
      expect((await source.request('POST', '/api/webhooks', { source: 'copy-edr', secret: SECRET })).status).toBe(201);
      expect((await source.request('POST', '/api/webhooks', { source: 'copy-siem', secret: SECRET, organisation_id: otherOrg })).status).toBe(201);
      const answers = await Promise.all([
        ...Array.from({ length: 12 }, (_, i) => postWebhook(source.url, 'copy-edr', SECRET, alert(`edr-${i}`, i % 2 ? 'high' : 'low', `host-${i % 3}`))),
        ...Array.from({ length: 8 }, (_, i) => postWebhook(source.url, 'copy-siem', SECRET, alert(`siem-${i}`, 'critical', 'dc-1'))),
        // The same alert again: a duplicate, recorded on the incident it already opened.
        postWebhook(source.url, 'copy-edr', SECRET, alert('edr-0', 'low', 'host-0')),
      ]);
      expect(answers.map((a) => a.status)).toEqual(Array(answers.length).fill(202));
      const first = answers[0].body.incident_id;
      expect((await source.request('POST', `/api/incidents/${first}/acknowledge`)).status).toBe(200);
      incidentsBefore = await incidentsOf(source);
      expect(incidentsBefore.length).toBeGreaterThanOrEqual(3);
      expect(new Set(incidentsBefore.map((i) => i.organisation_id)).size).toBe(2);
    });
    afterAll(async () => {
      await moved?.close();
      await source?.close();
      await fake?.stop();
    });

    /** Both organisations' incidents, as the API lists them. */
    const incidentsOf = async (app: TestApp) => {
      const own = await app.request('GET', '/api/incidents?limit=500');
      const other = await app.request('GET', `/api/incidents?limit=500&organisation_id=${otherOrg}`);
      if (own.status !== 200 || other.status !== 200) return [{ own: own.body, other: other.body }];
      return [...own.body.items, ...other.body.items];
    };

    const sourceRows = () => storedRows(join(source.dataDir, 'towline.db'));

    it('copies every event in log order with its id, type, data, metadata (hash included), stream and revision, and verifies it', async (context) => {
      if (userNode && (await targetLog(target)).some((e) => e.stream === 'instance-settings')) {
        console.warn(`SKIPPED: ${SUITE}: the node already holds Towline streams (instance-settings); the copy needs a fresh node`);
        context.skip();
      }
      const started = await source.request('POST', '/api/store/copy', { to: target });
      expect(started.status).toBe(202);
      expect(started.body).toMatchObject({ id: expect.any(String), state: expect.stringMatching(/^(checking|copying|verifying|done)$/), error: null });
      const job = await until(
        () => source.request('GET', `/api/store/copy/${started.body.id}`),
        (r) => r.body.state === 'done' || r.body.state === 'failed',
      );
      expect(job.body.error).toBeNull();
      expect(job.body.state).toBe('done');

      // The cut: everything up to the head when the job started (the read side writes nothing to the store).
      const cut = Number(job.body.last_position.split('/')[0]);
      const rows = sourceRows().filter((r) => r.position <= cut);
      const streams = new Set(rows.map((r) => r.stream));
      expect(job.body.report).toEqual({ streams: streams.size, events: rows.length, verified: true, mismatches: [], mismatch_count: 0 });
      expect(job.body.progress).toMatchObject({ events_total: rows.length, events_copied: rows.length, streams_total: streams.size, streams_verified: streams.size });
      expect(rows.map((r) => r.type)).toEqual(expect.arrayContaining(['OrganisationCreated', 'AlertReceived', 'IncidentOpened', 'IncidentAcknowledged']));

      // Read back independently: the target's log, in its order, is the source's, field by field.
      const copied = (await targetLog(target)).filter((e) => streams.has(e.stream));
      expect(copied.length).toBe(rows.length);
      copied.forEach((event, i) => {
        const row = rows[i];
        const where = `${row.stream}@${row.revision}`;
        expect(event.stream, where).toBe(row.stream);
        expect(event.revision, where).toBe(BigInt(row.revision));
        expect(event.id, where).toBe(row.id);
        expect(event.type, where).toBe(row.type);
        expect(event.data, where).toEqual(JSON.parse(row.data));
        expect(event.metadata, where).toEqual(JSON.parse(row.metadata));
        expect((event.metadata as { hash: string }).hash, where).toMatch(/^[0-9a-f]{64}$/);
      });
      // And every copied chain verifies by the published rule, from genesis.
      const byStream = new Map<string, ChainLink[]>();
      for (const e of copied) {
        byStream.set(e.stream, [...(byStream.get(e.stream) ?? []), { stream: e.stream, revision: e.revision, id: e.id, type: e.type, data: e.data as any, metadata: e.metadata as any }]);
      }
      for (const [stream, links] of byStream) expect(verifyChain(links), stream).toMatchObject({ ok: true, events: links.length });
    });

    it('refuses a second copy onto a target that already holds the streams, writing nothing', async () => {
      const before = (await targetLog(target)).length;
      const started = await source.request('POST', '/api/store/copy', { to: target });
      expect(started.status).toBe(202);
      const job = await until(
        () => source.request('GET', `/api/store/copy/${started.body.id}`),
        (r) => r.body.state === 'done' || r.body.state === 'failed',
      );
      expect(job.body.state).toBe('failed');
      expect(job.body.error).toMatchObject({ code: 'copy_target_not_empty', details: { streams: expect.arrayContaining(['instance-settings']) } });
      expect(job.body.report).toBeNull();
      expect((await targetLog(target)).length).toBe(before);
    });

    it('refuses a target holding just one of the streams (the others absent), writing nothing', async () => {
      const other = await startOwnFake().catch(() => undefined);
      if (!other) return; // needs a second empty node: only the fake gives one
      try {
        // One source stream already there, written by someone else.
        const client = EventStoreDBClient.connectionString(other.connectionString);
        await client.appendToStream('instance-settings', jsonEvent({ id: randomUUID(), type: 'SomethingElse', data: { not: 'towline' } }));
        await client.dispose();
        const started = await source.request('POST', '/api/store/copy', { to: other.connectionString });
        const job = await until(
          () => source.request('GET', `/api/store/copy/${started.body.id}`),
          (r) => r.body.state === 'done' || r.body.state === 'failed',
        );
        expect(job.body.error).toMatchObject({ code: 'copy_target_not_empty', details: { streams: ['instance-settings'] } });
        expect((await targetLog(other.connectionString)).length).toBe(1);
      } finally {
        await other.stop();
      }
    });

    it('does not hold up the API while a long copy runs (a slow target: 10 ms a call)', async () => {
      if (!fakeScript) return; // the slow node is a fake of its own
      process.env.FAKE_LATENCY_MS = '10';
      const slow = await startOwnFake().finally(() => delete process.env.FAKE_LATENCY_MS);
      try {
        const started = await source.request('POST', '/api/store/copy', { to: slow.connectionString });
        expect(started.status).toBe(202);
        const seen: { state: string; copied: number }[] = [];
        const latencies: number[] = [];
        let job = started;
        while (job.body.state !== 'done' && job.body.state !== 'failed') {
          const before = performance.now();
          expect((await source.request('GET', '/health/live', undefined, null)).status).toBe(200);
          latencies.push(performance.now() - before);
          job = await source.request('GET', `/api/store/copy/${started.body.id}`);
          seen.push({ state: job.body.state, copied: job.body.progress.events_copied });
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(job.body.report).toMatchObject({ verified: true, mismatch_count: 0 });
        // Progress was visible part-way, and the API answered at once throughout.
        expect(seen.some((s) => s.state === 'copying' && s.copied > 0 && s.copied < job.body.report.events)).toBe(true);
        expect(Math.max(...latencies)).toBeLessThan(250);
      } finally {
        await slow.stop();
      }
    });

    it('runs one copy at a time', async () => {
      if (!fakeScript) return;
      process.env.FAKE_LATENCY_MS = '10';
      const slow = await startOwnFake().finally(() => delete process.env.FAKE_LATENCY_MS);
      try {
        const first = await source.request('POST', '/api/store/copy', { to: slow.connectionString });
        expect(first.status).toBe(202);
        const second = await source.request('POST', '/api/store/copy', { to: slow.connectionString });
        expect(second.status).toBe(409);
        expect(second.body.error.code).toBe('copy_in_progress');
        await until(
          () => source.request('GET', `/api/store/copy/${first.body.id}`),
          (r) => r.body.state === 'done' || r.body.state === 'failed',
        );
      } finally {
        await slow.stop();
      }
    });

    it('tw-cli store copy --wait follows the job (progress on stderr) and exits by its outcome', async () => {
      if (!fakeScript) return; // needs an empty node of its own
      const other = await startOwnFake();
      try {
        const copied = await runCli(source.url, ['store', 'copy', '--to', other.connectionString, '--wait']);
        expect(copied.code).toBe(0);
        expect(copied.stderr).toMatch(/^(checking|copying|verifying)/m);
        expect(copied.stdout).toMatch(/state\s+done/);
        expect(copied.stdout).toMatch(/verified\s+yes/);
        const refused = await runCli(source.url, ['store', 'copy', '--to', other.connectionString, '--wait']);
        expect(refused.code).toBe(5);
        expect(refused.stdout).toContain('copy_target_not_empty');
        const invalid = await runCli(source.url, ['store', 'copy', '--to', 'http://nope']);
        expect(invalid.code).toBe(2);
        expect(invalid.stderr).toContain('invalid_connection_string');
      } finally {
        await other.stop();
      }
    });

    it('serves the same incidents from EventStoreDB once Towline is started on the copy, and takes new alerts there', async () => {
      moved = await startTestApp({ env: { TW_EVENT_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: target, TW_MASTER_KEY: MASTER_KEY } });
      const listed = await until(
        () => incidentsOf(moved!),
        // Until its read models have caught up with the whole copied log, not just the first incidents.
        (items) => JSON.stringify(items) === JSON.stringify(incidentsBefore),
      );
      expect(listed).toEqual(incidentsBefore);
      // The source's signing secret, sealed under the shared master key, still checks signatures there.
      const next = await postWebhook(moved.url, 'copy-siem', SECRET, alert('siem-after-move', 'critical', 'dc-2'));
      expect(next.status).toBe(202);
      expect(next.body.incident_number).toMatch(/^INC-\d{4}-\d+$/);
      const numbers = incidentsBefore.filter((i) => i.organisation_id === otherOrg).map((i) => Number(i.number.split('-')[2]));
      expect(Number(next.body.incident_number.split('-')[2])).toBe(Math.max(...numbers) + 1);
    });

    it('answers 409 on an EventStoreDB instance: backups are EventStoreDB’s own, and there is no embedded store to copy', async () => {
      const backup = await moved!.request('POST', '/api/store/backup', {});
      expect(backup.status).toBe(409);
      expect(backup.body.error.code).toBe('backup_not_supported_on_eventstoredb');
      expect(backup.body.error.message).toMatch(/EventStoreDB's own backup/);
      const copy = await moved!.request('POST', '/api/store/copy', { to: target });
      expect(copy.status).toBe(409);
      expect(copy.body.error.code).toBe('copy_source_not_embedded');
    });
  });
}
