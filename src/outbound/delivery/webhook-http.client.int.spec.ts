import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressPolicy } from './address-policy';
import { classifyTransportError, WebhookHttpClient } from './webhook-http.client';

describe('WebhookHttpClient over real loopback HTTP', () => {
  let server: Server;
  let port: number;
  let hits = 0;
  const open = new WebhookHttpClient(new AddressPolicy(['127.0.0.0/8', '::1/128']), 2_000);
  const guarded = new WebhookHttpClient(new AddressPolicy(), 2_000);
  const body = Buffer.from('{"hello":"world"}');

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits += 1;
      req.resume();
      req.on('end', () => {
        if (req.url === '/redirect') {
          res.writeHead(302, { location: `http://127.0.0.1:${port}/ok` });
          res.end();
        } else if (req.url === '/big') {
          res.writeHead(500, { 'content-type': 'text/plain', 'set-cookie': 'session=secret' });
          res.end('x'.repeat(10_000));
        } else if (req.url === '/hang') {
          // never answers
        } else {
          res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'r-1' });
          res.end('{"ok":true}');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await Promise.all([open.close(), guarded.close()]);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('posts to an allowlisted address and keeps the status, selected headers and the body', async () => {
    const outcome = await open.post(`http://127.0.0.1:${port}/ok`, { 'content-type': 'application/json' }, body, 2_000);
    expect(outcome).toMatchObject({ status: 200, body: '{"ok":true}', bodyTruncated: false, transportError: null });
    expect(outcome.headers).toMatchObject({ 'content-type': 'application/json', 'x-request-id': 'r-1' });
  });

  it('refuses at connect time an address (or a name resolving to one) the guard does not allow, sending nothing', async () => {
    const before = hits;
    for (const url of [
      `http://127.0.0.1:${port}/ok`,
      `http://localhost:${port}/ok`,
      `http://[::ffff:127.0.0.1]:${port}/ok`,
      `http://0x7f000001:${port}/ok`,
      `http://[::1]:${port}/ok`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/',
    ]) {
      const outcome = await guarded.post(url, {}, body, 2_000);
      expect(outcome.status, url).toBeNull();
      expect(outcome.transportError, url).toMatchObject({ class: 'unsafe_address' });
    }
    expect(hits).toBe(before);
  });

  it('does not follow redirects', async () => {
    const before = hits;
    const outcome = await open.post(`http://127.0.0.1:${port}/redirect`, {}, body, 2_000);
    expect(outcome).toMatchObject({ status: 302, headers: { location: `http://127.0.0.1:${port}/ok` } });
    expect(hits).toBe(before + 1);
  });

  it('keeps only the first 4 KiB of a body, and no cookies', async () => {
    const outcome = await open.post(`http://127.0.0.1:${port}/big`, {}, body, 2_000);
    expect(outcome.body).toHaveLength(4096);
    expect(outcome.bodyTruncated).toBe(true);
    expect(outcome.headers['set-cookie']).toBeUndefined();
  });

  it('gives up at the timeout, and tells a refused connection apart', async () => {
    const started = Date.now();
    const hang = await open.post(`http://127.0.0.1:${port}/hang`, {}, body, 300);
    expect(hang.transportError).toMatchObject({ class: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2_000);
    const closed = await open.post('http://127.0.0.1:1/', {}, body, 1_000);
    expect(closed.transportError).toMatchObject({ class: 'connection' });
    expect(classifyTransportError(Object.assign(new Error('x'), { code: 'ENOTFOUND' }))).toMatchObject({ class: 'dns' });
  });
});
