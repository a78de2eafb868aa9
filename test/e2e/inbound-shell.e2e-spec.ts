import { execFile, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';

/**
 * The seed's shell lines, run by bash with the real openssl and curl, exactly as the seed prints them: only
 * the URL (and the bearer key placeholder, and where the two examples disagree, the secret) are replaced.
 */
const seedsDir = join(__dirname, '..', '..', '..', 'shared', 'seeds');
const seed = readdirSync(seedsDir)
  .map((file) => readFileSync(join(seedsDir, file), 'utf8'))
  .find((text) => text.startsWith('Webhooks API'));

/** The lines from `first` up to and including the first line starting with `last`. */
function snippet(text: string, first: string, last: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.startsWith(first));
  const end = lines.findIndex((line, i) => i > start && line.startsWith(last));
  if (start < 0 || end < 0) throw new Error(`The seed has no snippet from "${first}" to "${last}"`);
  return lines.slice(start, end + 1).join('\n');
}

/** Asynchronous: the server answering curl runs in this very process, so its event loop must stay free. */
function bash(script: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', script], { encoding: 'utf8', timeout: 20_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    );
  });
}


describe("the seed's shell lines", () => {
  let t: TestApp;
  beforeAll(async () => {
    expect(seed, 'the webhooks seed in shared/seeds').toBeDefined();
    expect(spawnSync('bash', ['-c', 'command -v openssl curl']).status, 'openssl and curl must be installed').toBe(0);
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('register a source with the "Via API" curl, as printed (it sends no Content-Type)', async () => {
    const printed = snippet(seed!, 'curl -X POST "http://localhost:8080/api/webhooks"', "  }'");
    expect(printed).not.toContain('Content-Type');
    const script = printed.replaceAll('http://localhost:8080', t.url).replace('tw_xxx', ADMIN_KEY);
    // curl prints the response body: the registered source (an error would be {"error":…}).
    const run = await bash(script);
    expect(JSON.parse(run.stdout), run.stdout).toMatchObject({ source: 'email-gateway', auto_triage: true, playbook: 'phishing_triage' });
    expect(run.stdout).not.toContain('your-secret-key');
  });

  it('send the test event with openssl and curl, as printed', async () => {
    const printed = snippet(seed!, '# Generate signature', '  -d "${BODY}"');
    // The registration example's secret is "your-secret-key", the test example's "your-secret": one must give way.
    const script = printed.replaceAll('http://localhost:8080', t.url).replace('-hmac "your-secret"', '-hmac "your-secret-key"');
    expect(script).toContain('openssl dgst -sha256 -hmac');
    const run = await bash(script);
    expect(JSON.parse(run.stdout), run.stdout).toEqual({
      status: 'accepted',
      incident_id: null,
      incident_number: null,
      message: 'Test event verified; test events open no incident',
    });
  });

  it('and the same lines signing with another secret are refused', async () => {
    const printed = snippet(seed!, '# Generate signature', '  -d "${BODY}"');
    const run = await bash(printed.replaceAll('http://localhost:8080', t.url));
    expect(JSON.parse(run.stdout)).toEqual({ error: { code: 'invalid_signature', message: 'Webhook signature verification failed' } });
  });
});
