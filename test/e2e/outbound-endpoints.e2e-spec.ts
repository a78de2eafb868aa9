import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryAttempts } from '../../src/outbound/delivery/delivery-attempts';
import { DeliveryClaims } from '../../src/outbound/delivery/delivery-claims';
import type { DeliveryJob, DeliveryRunner } from '../../src/outbound/delivery/delivery-queue.port';
import { DeliveryWorker, workerSettings } from '../../src/outbound/delivery/delivery.worker';
import { ScheduledDeliveryQueue } from '../../src/outbound/delivery/delivery-queue';
import { DeliveriesProjection } from '../../src/outbound/projections/deliveries.projection';
import { WebhooksProjection } from '../../src/outbound/projections/webhooks.projection';
import { eventually, RECEIVER_ENV, startReceiver, type Receiver, type Reply } from '../support/receiver';
import { startTestApp, type TestApp } from '../support/test-app';

describe('delivery workers and endpoints', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function app(env: Record<string, string>): Promise<TestApp> {
    const t = await startTestApp({ env: { ...RECEIVER_ENV, ...env } });
    cleanup.push(() => t.close());
    return t;
  }
  async function receiver(respond?: (request: any) => Reply | Promise<Reply>): Promise<Receiver> {
    const r = await startReceiver(respond);
    cleanup.push(() => r.close());
    return r;
  }
  const publish = (t: TestApp, i: number) =>
    t.request('POST', '/api/organisations/default/events', { event_type: 'quality.regression', data: { issue_id: `q-${i}` } });

  it('never lets two embedded workers of one process attempt the same delivery at once', async () => {
    const t = await app({ TW_DELIVERY_ENDPOINT_CONCURRENCY: '4' });
    // A second worker with its own queue beside the application's, sharing the process's claims, as a
    // second worker thread of the same process would.
    const second = new DeliveryWorker(
      t.app.get(DeliveryAttempts),
      t.app.get(DeliveriesProjection),
      t.app.get(WebhooksProjection),
      t.app.get(DeliveryClaims),
      workerSettings(t.config),
    );
    let recordedBySecond = 0;
    const counting: DeliveryRunner = {
      allowance: (webhookId, now) => second.allowance(webhookId, now),
      load: () => second.load(),
      expire: (job) => second.expire(job),
      run: async (job: DeliveryJob) => {
        const outcome = await second.run(job);
        if (outcome === 'recorded') recordedBySecond += 1;
        return outcome;
      },
    };
    const { outbound } = t.config;
    const queue = new ScheduledDeliveryQueue(t.app.get(DeliveriesProjection), t.app.get(DeliveryClaims), {
      limits: { concurrency: outbound.concurrency, organisationConcurrency: outbound.organisationConcurrency, endpointConcurrency: outbound.endpointConcurrency },
      deadlineMs: outbound.deadlineMs,
    });
    queue.start(counting);
    cleanup.push(async () => {
      await queue.stop();
      await second.stop();
    });

    const a = await receiver(() => ({ status: 200, delayMs: 40 }));
    const b = await receiver(() => ({ status: 200, delayMs: 40 }));
    for (const r of [a, b]) await t.request('POST', '/api/organisations/default/webhooks', { url: r.url });
    await Promise.all(Array.from({ length: 30 }, (_, i) => publish(t, i)));

    await a.waitFor(30, 15_000);
    await b.waitFor(30, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const r of [a, b]) {
      expect(r.maxConcurrentPerDelivery()).toBe(1);
      const ids = r.requests.map((q) => q.headers['x-towline-delivery']);
      // Every delivery succeeded at its first attempt, so each id arrived exactly once.
      expect(new Set(ids).size).toBe(30);
      expect(ids).toHaveLength(30);
    }
    // Both workers did part of the work.
    expect(recordedBySecond).toBeGreaterThan(0);
    expect(recordedBySecond).toBeLessThan(60);
  });

  it('does not let one slow endpoint delay deliveries to another', async () => {
    const t = await app({ TW_DELIVERY_CONCURRENCY: '4', TW_DELIVERY_ENDPOINT_CONCURRENCY: '2', TW_DELIVERY_TIMEOUT: '5s' });
    const slow = await receiver(() => ({ status: 200, delayMs: 2_000 }));
    const fast = await receiver();
    for (const r of [slow, fast]) await t.request('POST', '/api/organisations/default/webhooks', { url: r.url });

    const started = Date.now();
    for (let i = 0; i < 12; i++) await publish(t, i);
    await fast.waitFor(12, 5_000);
    const fastDone = Date.now() - started;
    // Twelve to the fast endpoint while the slow one has taken just its lane's two, and answered none yet.
    expect(fastDone).toBeLessThan(1_500);
    expect(slow.requests.length).toBeLessThanOrEqual(2);
    expect(slow.requests.length).toBeGreaterThan(0);
  });

  it('opens the circuit of a failing endpoint for its cool-down, then lets one trial through', async () => {
    const t = await app({
      TW_DELIVERY_BREAKER_THRESHOLD: '3',
      TW_DELIVERY_BREAKER_COOLDOWN: '1500ms',
      TW_DELIVERY_RETRY_SCHEDULE: '100ms,100ms,100ms',
    });
    let healthy = false;
    const r = await receiver(() => (healthy ? { status: 200, delayMs: 300 } : { status: 500 }));
    const hook = (await t.request('POST', '/api/organisations/default/webhooks', { url: r.url })).body;
    await publish(t, 1);
    await publish(t, 2);

    await r.waitFor(3);
    const open = await eventually(async () => {
      const view = (await t.request('GET', `/api/organisations/default/webhooks/${hook.id}`)).body;
      return view.health.circuit.state === 'open' && view;
    });
    expect(open.health.consecutive_failures).toBe(3);
    const openedAt = Date.now();
    const seen = r.requests.length;
    healthy = true;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(r.requests).toHaveLength(seen);

    // After the cool-down one trial goes out alone; its success closes the circuit and the rest follows.
    const trial = (await r.waitFor(seen + 1, 5_000))[seen];
    expect(trial.at - openedAt).toBeGreaterThanOrEqual(1_000);
    const next = (await r.waitFor(seen + 2, 5_000))[seen + 1];
    expect(next.at - trial.at).toBeGreaterThanOrEqual(280);
    const deliveries = await eventually(async () => {
      const items = (await t.request('GET', `/api/organisations/default/webhooks/${hook.id}/deliveries`)).body.items;
      return items.every((d: any) => d.status === 'succeeded') && items;
    });
    // Waiting for the circuit used up no retries: neither delivery was dead-lettered.
    expect(deliveries).toHaveLength(2);
    expect((await t.request('GET', `/api/organisations/default/webhooks/${hook.id}`)).body.health.circuit.state).toBe('closed');
  });
});
