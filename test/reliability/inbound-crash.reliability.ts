import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sign } from '../fixtures/webhooks';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { ADMIN_KEY } from '../support/test-app';
import { api, expectHealthy, RELIABILITY_LIMITS, report, verifyStore, waitUntil } from './support';

const SECRET = 'reliability-flood-secret';
const SOURCES = { sync: 'flood-sync', queued: 'flood-queued' } as const;
/** Bounds of one flood: it is killed after this many acknowledged alerts, or this long, whichever comes first. */
const KILL_AFTER_ACKNOWLEDGED = 400;
const KILL_AFTER_MS = 8_000;
const SENDERS = 24;

const dir = mkdtempSync(join(tmpdir(), 'towline-reliability-inbound-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Acknowledged {
  alertId: string;
  source: string;
  answer: any;
}

/**
 * SENDERS loops posting distinct signed alerts, alternating between the two sources, until `stop()`. The
 * `acknowledged` list grows as 2xx answers come; `done` settles once every loop saw the server gone.
 */
function flood(server: ServerProcess, prefix: string, stop: () => boolean) {
  const state = { acknowledged: [] as Acknowledged[], sent: 0, refused: 0, failed: 0 };
  let next = 0;
  const done = Promise.all(
    Array.from({ length: SENDERS }, async () => {
      while (!stop()) {
        const n = next++;
        const source = n % 2 === 0 ? SOURCES.sync : SOURCES.queued;
        const alertId = `${prefix}-${n}`;
        const body = JSON.stringify({ event_type: 'security_alert', data: { alert_id: alertId, severity: 'high', title: `Flood ${n} 🚨` } });
        const timestamp = Math.floor(Date.now() / 1000);
        state.sent++;
        try {
          const response = await fetch(`${server.url}/api/webhooks/${source}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-webhook-timestamp': String(timestamp), 'x-webhook-signature': sign(SECRET, timestamp, body) },
            body,
          });
          const answer = await response.json();
          if (response.status >= 200 && response.status < 300) state.acknowledged.push({ alertId, source, answer });
          else state.refused++;
        } catch {
          state.failed++; // the server is gone: this one's fate is unknown, so it is not counted
          return;
        }
      }
    }),
  );
  return { state, done };
}

async function allIncidents(url: string): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const query: string = cursor ? `&cursor=${cursor}` : '';
    const listed = await api(url, 'GET', `/api/incidents?limit=500${query}`);
    if (listed.status !== 200) throw new Error(`GET /api/incidents: ${listed.status}`);
    items.push(...listed.body.items);
    cursor = listed.body.next_cursor;
    if (!cursor) return items;
  }
  throw new Error('more than 100 pages of incidents');
}

describe('kill -9 during an inbound flood (sync and queued)', () => {
  it('keeps every acknowledged alert exactly once, numbers unique and gap-free, every hash chain valid', async () => {
    const env = { ...RELIABILITY_LIMITS, TW_DATA_DIR: dir, TW_ADMIN_KEY: ADMIN_KEY };
    report('inbound-crash limits', RELIABILITY_LIMITS);
    const acknowledged: Acknowledged[] = [];

    // Two rounds: the second floods a store that was itself recovered from a kill.
    for (const round of [1, 2]) {
      const server = await startServerProcess(env);
      if (round === 1) {
        expect((await api(server.url, 'POST', '/api/webhooks', { source: SOURCES.sync, secret: SECRET })).status).toBe(201);
        expect((await api(server.url, 'POST', '/api/webhooks', { source: SOURCES.queued, secret: SECRET, mode: 'async' })).status).toBe(201);
      }
      const started = Date.now();
      let killed = false;
      const { state, done } = flood(server, `r${round}`, () => killed);
      await waitUntil(
        `${KILL_AFTER_ACKNOWLEDGED} acknowledged alerts or ${KILL_AFTER_MS} ms`,
        async () => state.acknowledged.length >= KILL_AFTER_ACKNOWLEDGED || Date.now() - started >= KILL_AFTER_MS,
        KILL_AFTER_MS + 5_000,
        20,
      );
      server.child.kill('SIGKILL');
      killed = true;
      await done;
      expect((await server.exited).signal).toBe('SIGKILL');
      acknowledged.push(...state.acknowledged);
      report(`inbound-crash round ${round}`, {
        sent: state.sent,
        acknowledged: state.acknowledged.length,
        queued: state.acknowledged.filter((a) => a.answer.status === 'queued').length,
        refused: state.refused,
        cut_by_kill: state.failed,
        killed_after_ms: Date.now() - started,
      });
      expect(state.refused).toBe(0);
    }
    expect(acknowledged.length).toBeGreaterThan(100);

    const server = await startServerProcess(env);
    try {
      const recoveredAt = Date.now();
      // Every queued alert is processed after the restart: its queue entry says so.
      for (const { answer } of acknowledged.filter((a) => a.answer.status === 'queued')) {
        await waitUntil(
          `queue entry ${answer.queue_id} to be processed`,
          async () => (await api(server.url, 'GET', `/api/webhooks/queue/${answer.queue_id}`)).body?.status === 'processed',
          60_000,
          50,
        );
      }
      await expectHealthy(server.url, 60_000);
      const incidents = await allIncidents(server.url);
      const byAlert = new Map<string, any[]>();
      for (const incident of incidents) byAlert.set(incident.vendor_alert_id, [...(byAlert.get(incident.vendor_alert_id) ?? []), incident]);

      // Exactly once: one incident per acknowledged alert, holding that one alert.
      const missing = acknowledged.filter((a) => !byAlert.has(a.alertId)).map((a) => a.alertId);
      expect(missing).toEqual([]);
      for (const a of acknowledged) {
        const found = byAlert.get(a.alertId)!;
        expect(found, a.alertId).toHaveLength(1);
        expect(found[0].alert_count, a.alertId).toBe(1);
        if (a.answer.status === 'accepted') expect(found[0].number).toBe(a.answer.incident_number);
      }
      // Numbers: unique and gap-free from 1 (per organisation and year; all of these are one of each).
      const numbers = incidents.map((i) => Number(String(i.number).split('-')[2])).sort((x, y) => x - y);
      expect(new Set(numbers).size).toBe(numbers.length);
      expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => i + 1));
      report('inbound-crash recovered', {
        acknowledged: acknowledged.length,
        incidents: incidents.length,
        unacknowledged_but_stored: incidents.length - acknowledged.length,
        highest_number: numbers.at(-1),
        recovery_ms: Date.now() - recoveredAt,
      });
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    const verified = await verifyStore(join(dir, 'towline.db'));
    report('inbound-crash hash chains', verified);
    expect(verified.streams).toBeGreaterThan(acknowledged.length);
  });
});
