import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { postWebhook } from '../fixtures/webhooks';
import { startTestApp, type TestApp } from '../support/test-app';

const SECRET = 'incident-secret-1';
const alert = (id: string, severity = 'high') => ({ event_type: 'security_alert', data: { alert_id: id, severity, title: `Alert ${id}` } });
const year = new Date().getUTCFullYear();
const sequenceOf = (number: string) => Number(/^INC-\d{4}-(\d+)$/.exec(number)![1]);

describe('incidents', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await t.request('POST', '/api/webhooks', { source: 'edr', secret: SECRET });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('numbers 200 alerts posted in parallel 1 to 200, without a conflict', async () => {
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => postWebhook(t.url, 'edr', SECRET, alert(`parallel-${i}`))));
    expect(answers.filter((a) => a.status !== 202)).toEqual([]);
    expect(answers.every((a) => a.body.status === 'accepted')).toBe(true);
    const sequences = answers.map((a) => sequenceOf(a.body.incident_number)).sort((a, b) => a - b);
    expect(sequences).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(new Set(answers.map((a) => a.body.incident_id)).size).toBe(200);
    expect(answers.every((a) => a.body.incident_number.startsWith(`INC-${year}-`))).toBe(true);

    // Claimed in a few batched appends on the organisation's counter stream, one event per number.
    const store = t.app.get<symbol, EventStore>(EVENT_STORE);
    const claims = (await store.readAll()).filter((e) => e.type === 'IncidentNumberClaimed');
    expect(claims.map((e) => e.data.sequence)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(new Set(claims.map((e) => e.stream)).size).toBe(1);
    expect(claims[0].stream).toMatch(new RegExp(`^incidentNumbers-[0-9a-f-]{36}\\.${year}$`));
  });

  it('lists incidents newest first, filtered and paged by an opaque cursor', async () => {
    const all = await t.request('GET', '/api/incidents?limit=500');
    expect(all.status).toBe(200);
    expect(all.body.items).toHaveLength(200);
    expect(all.body.next_cursor).toBeNull();
    expect(all.body.items[0]).toEqual({
      id: expect.any(String),
      number: expect.stringMatching(/^INC-/),
      organisation_id: expect.any(String),
      project_id: null,
      source: 'edr',
      stale: false,
      vendor_alert_id: expect.stringMatching(/^parallel-/),
      title: expect.stringMatching(/^Alert parallel-/),
      severity: 'high',
      category: null,
      status: 'open',
      assignee: null,
      auto_triage: false,
      playbook: null,
      triage_status: null,
      verdict: null,
      triage_score: null,
      alert_count: 1,
      regression_count: 0,
      related_count: 1,
      duplicate_of: null,
      opened_at: expect.any(String),
      last_seen_at: expect.any(String),
      acknowledged_at: null,
      resolved_at: null,
      resolution: null,
      verified_at: null,
      closed_at: null,
      close_reason: null,
      reopened_at: null,
      sla: {
        acknowledge: { target_seconds: 3600, due_at: expect.any(String), met_at: null, breached: false, breached_at: null },
        resolve: { target_seconds: 86400, due_at: expect.any(String), met_at: null, breached: false, breached_at: null },
      },
    });
    const ids = (page: { items: { id: string }[] }) => page.items.map((i) => i.id);
    // Walking the pages gives every incident once, in the same order as one big page.
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = (await t.request('GET', `/api/incidents?limit=30${cursor ? `&cursor=${cursor}` : ''}`)).body;
      walked.push(...ids(page));
      cursor = page.next_cursor;
    } while (cursor);
    expect(walked).toEqual(ids(all.body));
    expect((await t.request('GET', '/api/incidents?status=resolved')).body.items).toEqual([]);
    expect((await t.request('GET', '/api/incidents?source=elsewhere')).body.items).toEqual([]);
    expect((await t.request('GET', '/api/incidents?severity=high&limit=500')).body.items).toHaveLength(200);
    expect((await t.request('GET', '/api/incidents?severity=low')).body.items).toEqual([]);
    const newest = all.body.items[0].opened_at;
    expect((await t.request('GET', `/api/incidents?since=${encodeURIComponent(newest)}&limit=500`)).body.items.every((i: any) => i.opened_at >= newest)).toBe(true);
    expect((await t.request('GET', `/api/incidents?until=${encodeURIComponent(all.body.items[199].opened_at)}`)).body.items).toEqual([]);
    for (const bad of ['limit=0', 'status=finished', 'cursor=bm90LWEtY3Vyc29y', 'since=yesterday', 'project_id=42']) {
      expect((await t.request('GET', `/api/incidents?${bad}`)).status, bad).toBe(400);
    }
  });

  it('gets an incident by id or by number, with its alerts', async () => {
    const answer = await postWebhook(t.url, 'edr', SECRET, alert('detail-1', 'low'));
    const byNumber = await t.request('GET', `/api/incidents/${answer.body.incident_number}`);
    const byId = await t.request('GET', `/api/incidents/${answer.body.incident_id.toUpperCase()}`);
    expect(byNumber.status).toBe(200);
    expect(byId.body).toEqual(byNumber.body);
    expect(byNumber.body).toMatchObject({ id: answer.body.incident_id, number: answer.body.incident_number, severity: 'low' });
    expect(byNumber.body.alerts).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f-]{36}:0$/),
        receipt_id: expect.any(String),
        index: 0,
        received_at: expect.any(String),
        vendor: 'generic',
        vendor_alert_id: 'detail-1',
        title: 'Alert detail-1',
        severity: 'low',
        raw_severity: 'low',
        occurred_at: expect.any(String),
        category: null,
        indicators: { emails: [], urls: [], domains: [], ips: [], hashes: [] },
        action: 'trigger',
        normalization: 'vendor',
      },
    ]);
    expect((await t.request('GET', '/api/incidents/INC-1999-0001')).status).toBe(404);
    expect((await t.request('GET', '/api/incidents/not-an-id')).status).toBe(404);
  });

  it('numbers each organisation on its own and keeps their incidents apart', async () => {
    const org = await t.request('POST', '/api/organisations', { name: 'Second SOC' });
    const writer = (await t.request('POST', `/api/organisations/${org.body.id}/api-keys`, { name: 'w', scopes: ['sources:write', 'read'] })).body.key;
    const reader = (await t.request('POST', `/api/organisations/${org.body.id}/api-keys`, { name: 'r', scopes: ['read'] })).body.key;
    await t.request('POST', '/api/webhooks', { source: 'second-edr', secret: SECRET }, writer);
    const theirs = await postWebhook(t.url, 'second-edr', SECRET, alert('other-org-1'));
    expect(theirs.body.incident_number).toBe(`INC-${year}-0001`);

    const mine = (await t.request('GET', '/api/incidents?limit=1')).body.items[0];
    expect((await t.request('GET', `/api/incidents/${mine.id}`, undefined, reader)).status).toBe(404);
    expect((await t.request('GET', `/api/incidents/${mine.number}`, undefined, reader)).status).toBe(404);
    const listed = await t.request('GET', '/api/incidents', undefined, reader);
    expect(listed.body.items.map((i: { id: string }) => i.id)).toEqual([theirs.body.incident_id]);
    expect((await t.request('GET', '/api/incidents?organisation_id=default', undefined, reader)).status).toBe(404);
    // The instance admin sees the default organisation unless it names another.
    expect((await t.request('GET', `/api/incidents/${theirs.body.incident_id}`)).status).toBe(404);
    expect((await t.request('GET', `/api/incidents/${theirs.body.incident_id}?organisation_id=${org.body.id}`)).status).toBe(200);
    expect((await t.request('GET', '/api/incidents', undefined, null)).status).toBe(401);
  });
});

describe('incident numbers across a restart', () => {
  it('continue where they stopped', async () => {
    const first = await startTestApp();
    const dataDir = first.dataDir;
    let second: TestApp | undefined;
    try {
      await first.request('POST', '/api/webhooks', { source: 'edr', secret: SECRET });
      const before = await postWebhook(first.url, 'edr', SECRET, alert('before-restart'));
      expect(before.body.incident_number).toBe(`INC-${year}-0001`);
      await first.app.close();
      second = await startTestApp({ dataDir });
      const after = await postWebhook(second.url, 'edr', SECRET, alert('after-restart'));
      expect(after.body.incident_number).toBe(`INC-${year}-0002`);
      const repeat = await postWebhook(second.url, 'edr', SECRET, alert('before-restart'));
      expect(repeat.body).toEqual(before.body);
    } finally {
      await second?.close();
      await first.close().catch(() => undefined);
    }
  });
});
