import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook } from '../fixtures/webhooks';
import { runCli, type CliRun as Run } from '../support/cli-process';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';


/** A config directory of its own, so a developer's ~/.config/towline/config.json never takes part. */
const CONFIG_HOME = mkdtempSync(join(tmpdir(), 'tw-cli-config-'));

/** Runs the built tw-cli as a user would, with TW_URL and TW_API_KEY in its environment. */
function cli(t: TestApp, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runCli(args, { ...process.env, XDG_CONFIG_HOME: CONFIG_HOME, TW_URL: t.url, TW_API_KEY: ADMIN_KEY, ...env });
}

/** A loopback port nothing listens on: bound, then closed again. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('tw-cli', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
    rmSync(CONFIG_HOME, { recursive: true, force: true });
  });

  it("registers a source with the seed's command line, verbatim", async () => {
    const run = await cli(t, ['webhook', 'add', 'email-gateway', '--secret', 'your-secret-key', '--auto-triage', 'true', '--playbook', 'phishing_triage']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('Registered email-gateway');
    expect(run.stdout).toContain('POST /api/webhooks/email-gateway');
    expect(run.stdout).not.toContain('your-secret-key');
    const stored = await t.request('GET', '/api/webhooks/email-gateway');
    expect(stored.body).toMatchObject({ source: 'email-gateway', auto_triage: true, playbook: 'phishing_triage' });
  });

  it('lists and shows sources, as text and as JSON', async () => {
    const list = await cli(t, ['webhook', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('email-gateway');
    const json = await cli(t, ['--json', 'webhook', 'show', 'email-gateway']);
    expect(JSON.parse(json.stdout)).toMatchObject({ source: 'email-gateway', format: 'auto' });
  });

  it('sends a correctly signed test event through the public endpoint and prints the outcome', async () => {
    const run = await cli(t, ['webhook', 'test', 'email-gateway']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/POST \/api\/webhooks\/email-gateway → 20\d/);
    expect(run.stdout).toContain('Test event verified.');
  });

  it('updates settings without touching the secret: the same secret ids, and test events still verify', async () => {
    const before = (await t.request('GET', '/api/webhooks/email-gateway')).body;
    const run = await cli(t, ['webhook', 'update', 'email-gateway', '--playbook', 'malware_triage', '--auto-triage', 'false', '--mode', 'async', '--rate-limit', '0']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('Updated email-gateway');
    const after = (await t.request('GET', '/api/webhooks/email-gateway')).body;
    expect(after).toMatchObject({ playbook: 'malware_triage', auto_triage: false, mode: 'async', rate_limit: 0 });
    expect(after.secrets).toEqual(before.secrets);
    // The secret the seed's sender signs with still verifies: a real alert, signed outside Towline.
    expect((await postWebhook(t.url, 'email-gateway', 'your-secret-key', { event_type: 'test', data: {} })).status).toBe(202);

    const cleared = await cli(t, ['--json', 'webhook', 'update', 'email-gateway', '--no-playbook', '--mode', 'sync', '--auto-triage', 'true']);
    expect(JSON.parse(cleared.stdout)).toMatchObject({ playbook: null, mode: 'sync', auto_triage: true });

    const nothing = await cli(t, ['webhook', 'update', 'email-gateway']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('Nothing to change');
    const unknown = await cli(t, ['webhook', 'update', 'no-such-source', '--auto-triage', 'true']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('hint: tw-cli webhook list');
  });

  it('rotates the secret and still verifies test events with the new one', async () => {
    const rotated = await cli(t, ['webhook', 'rotate-secret', 'email-gateway', '--grace', '1h']);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/secret\s+\S{16,}/);
    expect((await cli(t, ['webhook', 'test', 'email-gateway'])).code).toBe(0);
  });

  it('prints recent webhook log records', async () => {
    const run = await cli(t, ['logs', '--filter', 'webhook', '--tail', '100']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.toLowerCase()).toContain('webhook');
    expect(run.stdout).not.toContain('your-secret-key');
  });

  it('lists the rejected requests of a source, and says so when there are none', async () => {
    const none = await cli(t, ['webhook', 'rejected', 'email-gateway']);
    expect(none).toMatchObject({ code: 0, stdout: 'Nothing from email-gateway was refused.\n' });
    expect((await postWebhook(t.url, 'email-gateway', 'your-secret-key', 'not json')).status).toBe(400);
    const listed = await cli(t, ['--json', 'webhook', 'rejected', 'email-gateway']);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ code: 'invalid_payload', body_excerpt: 'not json' })]);
  });

  it('removes a source, after which its test fails with the server error and the not-found exit code', async () => {
    expect((await cli(t, ['webhook', 'remove', 'email-gateway'])).code).toBe(0);
    const run = await cli(t, ['webhook', 'test', 'email-gateway']);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/^error: not_found: /);
  });

  it('says clearly when the key is missing or the server is unreachable', async () => {
    const noKey = await cli(t, ['webhook', 'list'], { TW_API_KEY: '' });
    expect(noKey).toMatchObject({ code: 3 });
    expect(noKey.stderr).toContain('TW_API_KEY');
    const unreachable = await cli(t, ['webhook', 'list'], { TW_URL: `http://127.0.0.1:${await closedPort()}` });
    expect(unreachable.code).toBe(7);
    expect(unreachable.stderr).toContain('Cannot reach Towline');
    expect(unreachable.stderr).toContain('ECONNREFUSED');
    const badArgument = await cli(t, ['webhook', 'add', 'x', '--auto-triage', 'maybe']);
    expect(badArgument.code).toBe(2);
    expect(badArgument.stderr).toContain('expected true or false');
  });
});
