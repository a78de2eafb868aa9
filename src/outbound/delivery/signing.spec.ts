import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, isWebhookSecret, signatureHeaders, standardWebhooksSignature, towlineSignature } from './signing';

interface OutboundVector {
  secret: string;
  body: string;
  webhook_id: string;
  webhook_timestamp: string;
  x_towline_signature: string;
  webhook_signature: string;
}

const vectors = (JSON.parse(readFileSync(join(__dirname, '../../../../shared/vectors/vectors.json'), 'utf8')) as { outbound: OutboundVector[] }).outbound;

describe('webhook signatures', () => {
  it.each(vectors)('reproduces both schemes of the shared vector exactly', (v) => {
    expect(towlineSignature(v.secret, Buffer.from(v.body, 'utf8'))).toBe(v.x_towline_signature);
    expect(standardWebhooksSignature(v.secret, v.webhook_id, Number(v.webhook_timestamp), Buffer.from(v.body, 'utf8'))).toBe(v.webhook_signature);
    expect(new Webhook(v.secret).sign(v.webhook_id, new Date(Number(v.webhook_timestamp) * 1000), v.body)).toBe(v.webhook_signature);
  });

  it('signs one attempt with the oldest live secret in sha256= and every live secret in webhook-signature', () => {
    const [newest, older] = [generateWebhookSecret(), generateWebhookSecret()];
    const body = Buffer.from('{"a":1}');
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = signatureHeaders({ deliveryId: 'd-1', eventType: 'finding.created', timestamp, body, secrets: [newest, older], signatureHeader: 'X-Sig' });
    expect(headers['X-Sig']).toBe(towlineSignature(older, body));
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [newest, older]) expect(new Webhook(secret).verify(body.toString(), headers)).toEqual({ a: 1 });
    expect(() => new Webhook(generateWebhookSecret()).verify(body.toString(), headers)).toThrow();
    expect(headers).toMatchObject({ 'X-Towline-Delivery': 'd-1', 'webhook-id': 'd-1', 'X-Towline-Timestamp': String(timestamp), 'X-Towline-Event': 'finding.created' });
  });

  it('generates Standard Webhooks secrets, and accepts those of 24–64 bytes or any shared string of 16–512 characters', () => {
    expect(isWebhookSecret(generateWebhookSecret())).toBe(true);
    expect(isWebhookSecret(vectors[0].secret)).toBe(true);
    for (const good of ['my-shared-secret', 'correct horse battery staple', 'ключ-ключ-ключ-ключ', 'x'.repeat(512)]) expect(isWebhookSecret(good), good).toBe(true);
    for (const bad of [
      'whsec_',
      'whsec_abc',
      `whsec_${Buffer.alloc(16).toString('base64')}`,
      `whsec_${Buffer.alloc(65).toString('base64')}`,
      'plain',
      'fifteen-chars!!',
      'whsec_!!!!!!!!!!!!!!!!',
      ' padded-shared-secret',
      'line\nbreak-in-a-secret',
      'x'.repeat(513),
    ]) {
      expect(isWebhookSecret(bad), bad).toBe(false);
    }
  });

  it('keys Standard Webhooks by the UTF-8 bytes of a shared-string secret, the seed scheme by the whole string', () => {
    const secret = 'a shared string for the SIEM';
    const body = Buffer.from('{"a":1}');
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = signatureHeaders({ deliveryId: 'd-2', eventType: 'finding.created', timestamp, body, secrets: [secret], signatureHeader: 'X-Sig' });
    expect(new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' }).verify(body.toString(), headers)).toEqual({ a: 1 });
    expect(headers['X-Sig']).toBe(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  });
});
