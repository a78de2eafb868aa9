import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReadSideRunner } from '../../src/cqrs/read-side.runner';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { READ_MODEL_DATABASE, tableRows, type ReadModelDatabase } from '../../src/read-model/read-model.database';
import { defenderEmail, falconDetection, settle, triaged } from '../fixtures/triage';
import { postWebhook } from '../fixtures/webhooks';
import { startTestApp, type TestApp } from '../support/test-app';

const SECRET = 'rebuild-secret-1';
const CONFIG = `
sources:
  email-gateway:
    secret: "${SECRET}"
    auto_triage: true
    playbook: phishing_triage
  edr:
    secret: "${SECRET}"
    auto_triage: true
    playbook: malware_triage
  siem:
    secret: "${SECRET}"
playbooks:
  protected_domains: [paypal.com]
  allow: { domains: [company.com] }
  asset_criticality: [{ pattern: "dc-*", criticality: critical }]
  routing: [{ verdict: malicious, assignee: soc }]
`;

const INCIDENT_TABLES = [
  'incident_list',
  'incident_list_alerts',
  'incident_stats_facts',
  'incident_sla',
  'triage_runs',
  'triage_sightings',
  'triage_sighting_incidents',
  'triage_learned_domains',
];

describe('rebuilding every read model from position zero', () => {
  const dir = mkdtempSync(join(tmpdir(), 'towline-rebuild-'));
  const file = join(dir, 'webhook_config.yaml');
  let t: TestApp;

  beforeAll(async () => {
    writeFileSync(file, CONFIG);
    t = await startTestApp({ env: { TW_CONFIG: file, TW_SLA_TARGETS: 'medium=1s/1s' } });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives exactly the live tables', async () => {
    // A bit of everything: triage verdicts, a closure by triage, a campaign, escalations, a lifecycle, SLA breaches.
    const ids: string[] = [];
    const post = async (source: string, payload: unknown) => {
      const answer = await postWebhook(t.url, source, SECRET, payload);
      expect(answer.status).toBe(202);
      ids.push(answer.body.incident_id);
      return answer.body.incident_id as string;
    };
    await triaged(t, await post('email-gateway', defenderEmail({ sender: 'billing@paypa1.com' })));
    await triaged(t, await post('email-gateway', defenderEmail({ sender: 'news@company.com', severity: 'low' })));
    for (const recipient of ['x@company.com', 'y@company.com', 'z@company.com']) {
      await triaged(t, await post('email-gateway', defenderEmail({ sender: 'offers@spam.example', subject: 'Win big', recipients: [recipient] })));
    }
    for (const host of ['DC-01', 'WS-9', 'WS-9']) await triaged(t, await post('edr', falconDetection({ host })));
    const manual = await post('siem', { event_type: 'security_alert', data: { alert_id: 'rebuild-1', severity: 'medium' } });
    for (const [path, body] of [['acknowledge'], ['resolve', { resolution: 'mitigated' }], ['verify', { passed: false }], ['close', { reason: 'false_positive' }]] as const) {
      expect((await t.request('POST', `/api/incidents/${manual}/${path}`, body)).status).toBe(200);
    }
    await post('siem', { event_type: 'security_alert', data: { alert_id: 'rebuild-2', severity: 'medium' } });
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // its SLA clocks run out

    const store = t.app.get<symbol, EventStore>(EVENT_STORE);
    await settle(store);
    const readSide = t.app.get(ReadSideRunner);
    await readSide.catchUp(readSide.consumerNames(), (await store.headPosition())!);

    // Every projection, rebuilt by the engine from position zero up to where the live one stands.
    const rebuilt = await readSide.rebuild({ upTo: readSide.projectionPositions() });
    const live = t.app.get<symbol, ReadModelDatabase>(READ_MODEL_DATABASE);
    const tables = rebuilt.projections.flatMap((p) => p.tables);
    expect(tables).toEqual(expect.arrayContaining(INCIDENT_TABLES));
    for (const table of tables) {
      const rows = tableRows(live, table);
      if (INCIDENT_TABLES.includes(table)) expect(rows.length, table).toBeGreaterThan(0);
      expect(tableRows(rebuilt.database, table), table).toEqual(rows);
    }
    expect(rebuilt.projections.every((p) => p.failed === 0)).toBe(true);
    // The indexes only queries use are dropped for the rebuild and built after its last event (queryIndexes):
    // the rebuilt database ends with exactly the live one's indexes.
    const indexes = (db: ReadModelDatabase) =>
      db.db
        .prepare(`SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN (${tables.map(() => '?').join(', ')}) ORDER BY name`)
        .all(...tables);
    expect(indexes(rebuilt.database).length).toBeGreaterThan(10);
    expect(indexes(rebuilt.database)).toEqual(indexes(live));
    // What the rebuild saw is what happened: every kind of outcome is in there.
    const list = tableRows(rebuilt.database, 'incident_list') as { status: string; close_reason: string | null; verdict: string | null }[];
    expect(list).toHaveLength(ids.length);
    expect(new Set(list.map((i) => i.close_reason))).toEqual(new Set([null, 'benign', 'duplicate', 'false_positive']));
    expect(new Set(list.map((i) => i.verdict))).toEqual(new Set([null, 'malicious', 'benign', 'suspicious']));
    expect((tableRows(rebuilt.database, 'incident_sla') as { acknowledge_breached_at: string | null }[]).some((r) => r.acknowledge_breached_at !== null)).toBe(true);
    rebuilt.database.close();
  });
});
