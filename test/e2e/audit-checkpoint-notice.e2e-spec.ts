import canonicalize from 'canonicalize';
import { createPublicKey, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook } from '../fixtures/webhooks';
import { eventually, RECEIVER_ENV, startReceiver, type Receiver } from '../support/receiver';
import { startTestApp, type TestApp } from '../support/test-app';

/** Issue 9: each signed ledger checkpoint can be sent out of Towline as it is made, to a webhook the organisation chooses. */
describe('ledger checkpoints sent out (audit.checkpoint)', () => {
  let t: TestApp;
  let receiver: Receiver;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { ...RECEIVER_ENV, TW_AUDIT_CHECKPOINT_INTERVAL: '0s' } });
    receiver = await startReceiver();
    org = (await t.request('GET', '/api/organisations/default')).body.id;
    await t.request('POST', '/api/webhooks', { source: 'ledger-edr', secret: 'ledger-secret-0001' });
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('delivers each checkpoint, verifiable with the published key by independent code, only to a webhook that asked for it', async () => {
    const subscribed = await t.request('POST', `/api/organisations/${org}/webhooks`, { url: `${receiver.url}/ledger`, event_types: ['audit.checkpoint'] });
    expect(subscribed.status, JSON.stringify(subscribed.body)).toBe(201);
    const other = await t.request('POST', `/api/organisations/${org}/webhooks`, { url: `${receiver.url}/findings`, event_types: ['finding.created'] });
    expect(other.status).toBe(201);
    expect((await postWebhook(t.url, 'ledger-edr', 'ledger-secret-0001', { event_type: 'security_alert', data: { alert_id: 'l-1', severity: 'high' } })).status).toBe(202);

    const taken = await t.request('POST', '/api/audit/checkpoints');
    expect(taken.status, JSON.stringify(taken.body)).toBe(201);
    const request = await eventually(() => receiver.requests.find((r) => r.path === '/ledger'), 10_000, 'the checkpoint to be delivered');
    const envelope = request.json();
    expect(envelope).toMatchObject({ event_type: 'audit.checkpoint', organisation_id: org, data: { ledger: `ledger-${org}`, sequence: expect.any(Number) } });
    const { signature, ...signed } = envelope.data.checkpoint;
    const published = (await t.request('GET', '/api/audit/public-key')).body;
    expect(envelope.data.checkpoint.publicKey).toBe(published.public_key);
    const key = createPublicKey(published.pem);
    expect(verify(null, Buffer.from(canonicalize(signed)!, 'utf8'), key, Buffer.from(signature, 'base64'))).toBe(true);
    const forged = { ...signed, to: '1/1' };
    expect(verify(null, Buffer.from(canonicalize(forged)!, 'utf8'), key, Buffer.from(signature, 'base64'))).toBe(false);
    expect(envelope.data.checkpoint.streams.some((s: { stream: string }) => s.stream.startsWith('incident-'))).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.requests.filter((r) => r.path === '/findings' && r.json().event_type === 'audit.checkpoint')).toEqual([]);
    // Nobody can publish one through the API.
    const publish = await t.request('POST', `/api/organisations/${org}/events`, { event_type: 'audit.checkpoint', data: {} });
    expect(publish.status).toBe(400);
  });
});
