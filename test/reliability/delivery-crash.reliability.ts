import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../support/receiver';
import { startServerProcess } from '../support/server-process';
import { ADMIN_KEY } from '../support/test-app';
import { api, expectHealthy, RELIABILITY_LIMITS, report, verifyStore, waitUntil } from './support';

/** Bounds: events published, and the kill once the receivers have seen this many requests (or this long). */
const EVENTS = 80;
const KILL_AFTER_REQUESTS = 150;
const KILL_AFTER_MS = 10_000;

const dir = mkdtempSync(join(tmpdir(), 'towline-reliability-delivery-'));
const receivers: Receiver[] = [];
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** Every page of a webhook's deliveries. */
async function deliveriesOf(url: string, webhookId: string): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 50; page++) {
    const query: string = cursor ? `&cursor=${cursor}` : '';
    const listed = await api(url, 'GET', `/api/organisations/default/webhooks/${webhookId}/deliveries?limit=500${query}`);
    if (listed.status !== 200) throw new Error(`deliveries: ${listed.status}`);
    items.push(...listed.body.items);
    cursor = listed.body.next_cursor;
    if (!cursor) return items;
  }
  throw new Error('more than 50 pages of deliveries');
}

async function eventCount(url: string): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  for (let page = 0; page < 50; page++) {
    const query: string = cursor ? `&cursor=${cursor}` : '';
    const listed = await api(url, 'GET', `/api/organisations/default/events?limit=500${query}`);
    count += listed.body.items.length;
    cursor = listed.body.next_cursor;
    if (!cursor) return count;
  }
  throw new Error('more than 50 pages of events');
}

describe('kill -9 during deliveries, with a shortened retry schedule', () => {
  it('ends every delivery delivered or dead-lettered, each id received at least once, and the counts balance', async () => {
    // Three receivers: one that always answers 200, one that fails each delivery's first attempt, one that always fails.
    const seenByFlaky = new Map<string, number>();
    const ok = await startReceiver(() => ({ status: 200 }));
    const flaky = await startReceiver((request) => {
      const id = request.headers['x-towline-delivery'];
      const seen = (seenByFlaky.get(id) ?? 0) + 1;
      seenByFlaky.set(id, seen);
      return { status: seen === 1 ? 503 : 200 };
    });
    const broken = await startReceiver(() => ({ status: 500 }));
    receivers.push(ok, flaky, broken);
    const requests = () => ok.requests.length + flaky.requests.length + broken.requests.length;

    const delivery = {
      TW_WEBHOOK_ALLOW_CIDRS: '127.0.0.0/8',
      TW_ALLOW_INSECURE_WEBHOOKS: 'true',
      TW_DELIVERY_RETRY_SCHEDULE: '200ms,400ms',
      TW_DELIVERY_RETRY_JITTER: 'none',
      TW_DELIVERY_TIMEOUT: '2s',
      // The broken receiver must not open its circuit and cancel nothing: every attempt is made.
      TW_DELIVERY_BREAKER_THRESHOLD: '1000',
    };
    const env = { ...RELIABILITY_LIMITS, ...delivery, TW_DATA_DIR: dir, TW_ADMIN_KEY: ADMIN_KEY };
    report('delivery-crash settings', { ...RELIABILITY_LIMITS, ...delivery, events: EVENTS });

    const first = await startServerProcess(env);
    const hooks: Record<string, string> = {};
    for (const [name, receiver] of Object.entries({ ok, flaky, broken })) {
      const created = await api(first.url, 'POST', '/api/organisations/default/webhooks', { url: receiver.url, description: name });
      expect(created.status).toBe(201);
      hooks[name] = created.body.id;
    }
    // Published four at a time while the first deliveries go out; the kill comes in the middle of them.
    const published: string[] = [];
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let n = next++; n < EVENTS; n = next++) {
          const answer = await api(first.url, 'POST', '/api/organisations/default/events', {
            event_type: 'finding.created',
            data: { finding_id: `f-${n}`, title: `Finding ${n} 🔥`, severity: 'high' },
          });
          expect(answer.status).toBe(201);
          published.push(answer.body.id);
        }
      }),
    );
    await waitUntil('deliveries under way', async () => requests() >= KILL_AFTER_REQUESTS || Date.now() - started > KILL_AFTER_MS, KILL_AFTER_MS + 5_000, 5);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const requestsBeforeKill = requests();

    const second = await startServerProcess(env);
    try {
      const restartedAt = Date.now();
      const events = await eventCount(second.url);
      expect(events).toBeGreaterThanOrEqual(published.length);
      // Wait until nothing is pending or retrying, and every event has its delivery to each webhook.
      const settled = await waitUntil(
        'every delivery to end',
        async () => {
          const lists = await Promise.all(Object.values(hooks).map((id) => deliveriesOf(second.url, id)));
          const done = lists.every((list) => list.length === events && list.every((d) => ['succeeded', 'failed', 'cancelled'].includes(d.status)));
          return done && lists;
        },
        90_000,
        250,
      );
      const [okList, flakyList, brokenList] = settled;
      const all = settled.flat();
      const delivered = all.filter((d) => d.status === 'succeeded').length;
      const deadLettered = all.filter((d) => d.status === 'failed').length;
      const cancelled = all.filter((d) => d.status === 'cancelled').length;
      report('delivery-crash settled', {
        published_acknowledged: published.length,
        events,
        deliveries: all.length,
        delivered,
        dead_lettered: deadLettered,
        cancelled,
        receiver_requests: requests(),
        requests_before_kill: requestsBeforeKill,
        settle_ms: Date.now() - restartedAt,
      });
      expect(events * 3).toBe(delivered + deadLettered + cancelled);
      expect(cancelled).toBe(0);
      expect(okList.every((d: any) => d.status === 'succeeded')).toBe(true);
      expect(flakyList.every((d: any) => d.status === 'succeeded')).toBe(true);
      expect(brokenList.every((d: any) => d.status === 'failed' && d.attempts === 3)).toBe(true);
      // At least once: every delivery id reached its receiver.
      for (const [list, receiver] of [[okList, ok], [flakyList, flaky], [brokenList, broken]] as const) {
        const received = new Set(receiver.requests.map((r) => r.headers['x-towline-delivery']));
        const never = list.filter((d: any) => !received.has(d.id)).map((d: any) => d.id);
        expect(never).toEqual([]);
      }
      await expectHealthy(second.url);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
    report('delivery-crash hash chains', await verifyStore(join(dir, 'towline.db')));
  });
});
