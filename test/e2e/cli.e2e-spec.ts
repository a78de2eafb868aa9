import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';

const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'tw-cli.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built tw-cli as a user would, with TW_URL and TW_API_KEY in its environment. */
function cli(t: TestApp, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, TW_URL: t.url, TW_API_KEY: ADMIN_KEY, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('tw-cli', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
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

  it('removes a source, after which its test fails with the server error and a non-zero exit', async () => {
    expect((await cli(t, ['webhook', 'remove', 'email-gateway'])).code).toBe(0);
    const run = await cli(t, ['webhook', 'test', 'email-gateway']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: \w+: /);
  });

  it('says clearly when the key is missing or the server is unreachable', async () => {
    const noKey = await cli(t, ['webhook', 'list'], { TW_API_KEY: '' });
    expect(noKey).toMatchObject({ code: 1 });
    expect(noKey.stderr).toContain('TW_API_KEY');
    const unreachable = await cli(t, ['webhook', 'list'], { TW_URL: 'http://127.0.0.1:1' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('Cannot reach Towline');
    const badArgument = await cli(t, ['webhook', 'add', 'x', '--auto-triage', 'maybe']);
    expect(badArgument.code).not.toBe(0);
    expect(badArgument.stderr).toContain('expected true or false');
  });
});
