import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReadSideRunner } from '../../src/cqrs/read-side.runner';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { eventually, RECEIVER_ENV, startReceiver, type Receiver } from '../support/receiver';
import { startServerProcess } from '../support/server-process';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';

const dirs: string[] = [];
const receivers: Receiver[] = [];
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'towline-outbound-'));
  dirs.push(dir);
  return dir;
}

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

const event = { event_type: 'finding.created', data: { finding_id: 'f-1', title: 'Leak', severity: 'high' } };

async function deliveriesOf(t: TestApp, webhookId: string) {
  return (await t.request('GET', `/api/organisations/default/webhooks/${webhookId}/deliveries`)).body.items;
}

describe('outbound delivery across restarts', () => {
  it('keeps a pending retry across a restart and delivers it at its due time', async () => {
    const dir = dataDir();
    const r = await receiver((request) => ({ status: request.index === 0 ? 503 : 200 }));
    // A retry two seconds out: long enough to stop the app before it is due.
    const env = { ...RECEIVER_ENV, TW_DELIVERY_RETRY_SCHEDULE: '2s' };
    const first = await startTestApp({ env, dataDir: dir });
    const hook = (await first.request('POST', '/api/organisations/default/webhooks', { url: r.url })).body;
    await first.request('POST', '/api/organisations/default/events', event);
    await r.waitFor(1);
    const [retrying] = await eventually(async () => {
      const items = await deliveriesOf(first, hook.id);
      return items[0]?.status === 'retrying' && items;
    });
    await first.close();

    const second = await startTestApp({ env, dataDir: dir });
    try {
      const [, again] = await r.waitFor(2, 10_000);
      expect(again.headers['x-towline-delivery']).toBe(retrying.id);
      expect(again.at).toBeGreaterThanOrEqual(Date.parse(retrying.next_attempt_at) - 50);
      const delivered = await eventually(async () => (await deliveriesOf(second, hook.id)).find((d: any) => d.status === 'succeeded'));
      expect(delivered).toMatchObject({ id: retrying.id, attempts: 2 });
    } finally {
      await second.close();
    }
  });

  it('rebuilds the due work from the delivery events when the read models are gone', async () => {
    const dir = dataDir();
    const r = await receiver((request) => ({ status: request.index === 0 ? 500 : 200 }));
    const env = { ...RECEIVER_ENV, TW_DELIVERY_RETRY_SCHEDULE: '1500ms' };
    const first = await startTestApp({ env, dataDir: dir });
    const hook = (await first.request('POST', '/api/organisations/default/webhooks', { url: r.url })).body;
    await first.request('POST', '/api/organisations/default/events', event);
    await r.waitFor(1);
    await eventually(async () => (await deliveriesOf(first, hook.id))[0]?.status === 'retrying');
    await first.close();
    for (const file of ['read-models.db', 'read-models.db-wal', 'read-models.db-shm']) rmSync(join(dir, file), { force: true });

    const second = await startTestApp({ env, dataDir: dir });
    try {
      const requests = await r.waitFor(2, 10_000);
      expect(requests[1].headers['x-towline-delivery']).toBe(requests[0].headers['x-towline-delivery']);
      await eventually(async () => (await deliveriesOf(second, hook.id))[0]?.status === 'succeeded');
      // Replaying the log from the start planned nothing twice.
      expect(await deliveriesOf(second, hook.id)).toHaveLength(1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(r.requests).toHaveLength(2);
    } finally {
      await second.close();
    }
  });

  it('records no derived event twice and delivers nothing again when the read models are rebuilt from zero', async () => {
    const dir = dataDir();
    const r = await receiver();
    const first = await startTestApp({ env: RECEIVER_ENV, dataDir: dir });
    await first.request('POST', '/api/organisations/default/webhooks', { url: r.url });
    const project = (await first.request('POST', '/api/organisations/default/projects', { name: 'rebuilt' })).body.id;
    await first.request('POST', `/api/organisations/default/projects/${project}/monitoring/pause`, { reason: 'x' });
    await first.request('POST', `/api/organisations/default/projects/${project}/monitoring/resume`);
    await r.waitFor(2);
    await first.close();
    for (const file of ['read-models.db', 'read-models.db-wal', 'read-models.db-shm']) rmSync(join(dir, file), { force: true });

    const second = await startTestApp({ env: RECEIVER_ENV, dataDir: dir });
    try {
      // Every consumer replays the log from the start, the producers of ascam.* among them.
      const runner = second.app.get(ReadSideRunner);
      await eventually(() => runner.status().every((c) => c.state === 'live'), 10_000, 'every consumer to catch up');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const org = (await second.request('GET', '/api/organisations/default')).body.id;
      const log = await second.app.get<symbol, EventStore>(EVENT_STORE).readStream(`securityEvent-${org}`);
      expect(log.map((e) => (e.data.envelope as { event_type: string }).event_type)).toEqual(['ascam.paused', 'ascam.resumed']);
      expect(r.requests).toHaveLength(2);
    } finally {
      await second.close();
    }
  });

  it('checks the address again at connect time: a webhook allowed when created is refused once the allowlist is gone', async () => {
    const dir = dataDir();
    const r = await receiver();
    const allowed = await startTestApp({ env: RECEIVER_ENV, dataDir: dir });
    const byAddress = (await allowed.request('POST', '/api/organisations/default/webhooks', { url: `${r.url}/a` })).body;
    const port = new URL(r.url).port;
    const byName = (await allowed.request('POST', '/api/organisations/default/webhooks', { url: `http://localhost:${port}/b` })).body;
    expect(byName.id).toBeDefined();
    const byHex = (await allowed.request('POST', '/api/organisations/default/webhooks', { url: `http://0x7f000001:${port}/c` })).body;
    expect(byHex.url).toBe(`http://127.0.0.1:${port}/c`);
    await allowed.close();

    const { TW_WEBHOOK_ALLOW_CIDRS: _, ...withoutAllowlist } = RECEIVER_ENV;
    const guarded = await startTestApp({ env: withoutAllowlist, dataDir: dir });
    try {
      await guarded.request('POST', '/api/organisations/default/events', event);
      for (const hook of [byAddress, byName, byHex]) {
        const [delivery] = await eventually(async () => {
          const items = await deliveriesOf(guarded, hook.id);
          return items[0]?.status === 'failed' && items;
        });
        expect(delivery).toMatchObject({ attempts: 1, last_status_code: null, last_error: 'unsafe_address', failure_reason: 'not_retryable' });
        const detail = (await guarded.request('GET', `/api/organisations/default/deliveries/${delivery.id}`)).body;
        expect(detail.attempt_log[0].error).toMatch(/refused address/);
      }
      // And a test send is refused the same way.
      const test = await guarded.request('POST', `/api/organisations/default/webhooks/${byName.id}/test`, {});
      expect(test.body.result).toMatchObject({ succeeded: false, error_class: 'unsafe_address', response: { status: null } });
      expect(r.requests).toHaveLength(0);
      // Creating one is refused outright.
      const refused = await guarded.request('POST', '/api/organisations/default/webhooks', { url: `http://localhost:${port}/c` });
      expect(refused).toMatchObject({ status: 400, body: { error: { code: 'unsafe_url' } } });
    } finally {
      await guarded.close();
    }
  });

  it('delivers at least once, with the same delivery id, when the process is killed mid-delivery', async () => {
    const dir = dataDir();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The first request is never answered while the first process lives; later ones are.
    const r = await receiver(async (request) => {
      if (request.index === 0) await held;
      return { status: 200 };
    });
    const env = { ...RECEIVER_ENV, TW_DATA_DIR: dir, TW_ADMIN_KEY: ADMIN_KEY, TW_DELIVERY_TIMEOUT: '10s' };
    const auth = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
    const post = (url: string, path: string, body: unknown) =>
      fetch(url + path, { method: 'POST', headers: auth, body: JSON.stringify(body) }).then(async (res) => ({ status: res.status, body: (await res.json()) as any }));

    const first = await startServerProcess(env);
    try {
      const hook = await post(first.url, '/api/organisations/default/webhooks', { url: r.url });
      expect(hook.status).toBe(201);
      expect((await post(first.url, '/api/organisations/default/events', event)).status).toBe(201);
      await r.waitFor(1);
    } finally {
      first.child.kill('SIGKILL');
    }
    expect((await first.exited).signal).toBe('SIGKILL');
    release();

    const second = await startServerProcess(env);
    try {
      const requests = await r.waitFor(2, 15_000);
      expect(requests[1].headers['x-towline-delivery']).toBe(requests[0].headers['x-towline-delivery']);
      expect(requests[1].body.equals(requests[0].body)).toBe(true);
      const hookId = (await (await fetch(`${second.url}/api/organisations/default/webhooks`, { headers: auth })).json()) as any[];
      await eventually(async () => {
        const page = (await (await fetch(`${second.url}/api/organisations/default/webhooks/${hookId[0].id}/deliveries`, { headers: auth })).json()) as any;
        return page.items[0]?.status === 'succeeded';
      });
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  it('records an attempt that was in flight at SIGTERM, and makes it again after the restart', async () => {
    const dir = dataDir();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The first request is not answered before the first process has stopped; later ones are.
    const r = await receiver(async (request) => {
      if (request.index === 0) await held;
      return { status: 200 };
    });
    const env = { ...RECEIVER_ENV, TW_DATA_DIR: dir, TW_ADMIN_KEY: ADMIN_KEY, TW_DELIVERY_TIMEOUT: '10s' };
    const auth = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
    const call = (url: string, path: string, body?: unknown) =>
      fetch(url + path, { method: body === undefined ? 'GET' : 'POST', headers: auth, body: body === undefined ? undefined : JSON.stringify(body) }).then(
        async (res) => (await res.json()) as any,
      );

    const first = await startServerProcess(env);
    const hook = await call(first.url, '/api/organisations/default/webhooks', { url: r.url });
    await call(first.url, '/api/organisations/default/events', event);
    await r.waitFor(1);
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    release();

    const second = await startServerProcess(env);
    try {
      const requests = await r.waitFor(2, 15_000);
      expect(requests[1].headers['x-towline-delivery']).toBe(requests[0].headers['x-towline-delivery']);
      const delivery = await eventually(async () => {
        const page = await call(second.url, `/api/organisations/default/webhooks/${hook.id}/deliveries`);
        return page.items[0]?.status === 'succeeded' && page.items[0];
      });
      const detail = await call(second.url, `/api/organisations/default/deliveries/${delivery.id}`);
      // Both attempts are in the log: the interrupted one (no answer), then the one after the restart.
      expect(detail.attempt_log.map((a: any) => [a.attempt, a.error_class])).toEqual([
        [1, 'interrupted'],
        [2, null],
      ]);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});
