import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook } from '../fixtures/webhooks';
import { eventually, RECEIVER_ENV, startReceiver, type Receiver } from '../support/receiver';
import { CLI, runCli, type CliRun as Run } from '../support/cli-process';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';

const HOME = mkdtempSync(join(tmpdir(), 'tw-cli-resources-'));

/** The built tw-cli, as a user runs it; its config directory is the test's own, so no real one takes part. */
function cli(t: TestApp, args: string[], env: Record<string, string> = {}, input?: string): Promise<Run> {
  return runCli(args, { ...process.env, XDG_CONFIG_HOME: HOME, TW_URL: t.url, TW_API_KEY: ADMIN_KEY, ...env }, input);
}

async function json(t: TestApp, args: string[], env: Record<string, string> = {}): Promise<any> {
  const run = await cli(t, ['--json', ...args], env);
  expect(run, `tw-cli ${args.join(' ')}`).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(run.stdout);
}

describe('tw-cli: every verb group against a real server', () => {
  let t: TestApp;
  let receiver: Receiver;
  beforeAll(async () => {
    t = await startTestApp({ env: RECEIVER_ENV });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
    rmSync(HOME, { recursive: true, force: true });
  });

  it('orgs create, list and show', async () => {
    const created = await json(t, ['orgs', 'create', 'Acme Security']);
    expect(created).toMatchObject({ name: 'Acme Security', id: expect.any(String) });
    const listed = await cli(t, ['orgs', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+CREATED$/);
    expect(listed.stdout).toMatch(new RegExp(`${created.id}\\s+Acme Security`));
    expect((await cli(t, ['orgs', 'show', created.id])).stdout).toMatch(/name\s+Acme Security/);
    const missing = await cli(t, ['orgs', 'show', '00000000-0000-4000-8000-000000000000']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('hint: tw-cli orgs list');
    const invalid = await cli(t, ['orgs', 'create', ' padded ']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^error: invalid_request: .*\n {2}name: /);
  });

  it('projects create, list, status, pause and resume', async () => {
    const project = await json(t, ['projects', 'create', 'payments-api']);
    expect((await cli(t, ['projects', 'list'])).stdout).toMatch(new RegExp(`${project.id}\\s+payments-api`));
    const paused = await cli(t, ['projects', 'pause', project.id, '--reason', 'Maintenance window']);
    expect(paused).toMatchObject({ code: 0, stdout: expect.stringContaining('is paused (Maintenance window)') });
    expect(await json(t, ['projects', 'status', project.id])).toMatchObject({ project_id: project.id, paused: true, reason: 'Maintenance window' });
    expect((await cli(t, ['projects', 'resume', project.id])).stdout).toContain('is running');
    // Pausing emitted a security event: the log shows it.
    const events = await json(t, ['events', 'list', '--type', 'ascam.paused']);
    expect(events.items).toHaveLength(1);
    expect((await cli(t, ['projects', 'create', 'payments-api'])).code).toBe(5);
    expect((await cli(t, ['projects', 'pause', '00000000-0000-4000-8000-000000000000'])).code).toBe(4);
  });

  it('keys create, list and revoke; a revoked key is refused with the auth exit code', async () => {
    const created = await json(t, ['keys', 'create', 'analyst', '--scopes', 'read,incidents:write']);
    expect(created).toMatchObject({ name: 'analyst', scopes: ['read', 'incidents:write'], key: expect.stringMatching(/^tw_/) });
    const listed = await cli(t, ['keys', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`${created.id}\\s+analyst\\s+read,incidents:write`));
    // An organisation key works without --organisation: its own organisation is found for it.
    const own = await cli(t, ['projects', 'list'], { TW_API_KEY: created.key });
    expect(own.code).toBe(0);
    expect(own.stdout).toContain('payments-api');
    const forbidden = await cli(t, ['keys', 'list'], { TW_API_KEY: created.key });
    expect(forbidden.code).toBe(3);
    expect(forbidden.stderr).toContain("error: forbidden: This API key lacks the 'admin' scope");
    expect((await cli(t, ['keys', 'revoke', created.id])).stdout).toBe(`Revoked API key ${created.id}.\n`);
    const revoked = await cli(t, ['incidents', 'list'], { TW_API_KEY: created.key });
    expect(revoked.code).toBe(3);
    expect(revoked.stderr).toContain('Invalid or revoked API key');
    expect(revoked.stderr).toContain('hint: The server refused TW_API_KEY');
    expect((await cli(t, ['keys', 'create', 'x'])).code).toBe(2);
  });

  it('incidents list, show, assign, ack, resolve, verify, reopen, close, trace, triage and stats', async () => {
    await t.request('POST', '/api/webhooks', { source: 'edr', secret: 'edr-secret-0001' });
    const alert = await postWebhook(t.url, 'edr', 'edr-secret-0001', { event_type: 'security_alert', data: { alert_id: 'a-1', severity: 'high', title: 'Beacon on host-7' } });
    expect(alert.status).toBe(202);
    const number: string = alert.body.incident_number;

    const listed = await cli(t, ['incidents', 'list', '--status', 'open']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^NUMBER\s+STATUS\s+SEVERITY\s+SOURCE/);
    expect(listed.stdout).toMatch(new RegExp(`${number}\\s+open\\s+high\\s+edr\\s+1`));
    expect((await json(t, ['incidents', 'list', '--source', 'edr'])).items.map((i: any) => i.number)).toEqual([number]);
    expect((await cli(t, ['incidents', 'list', '--status', 'closed'])).stdout).toBe('No incidents.\n');

    const shown = await cli(t, ['incidents', 'show', number.toLowerCase()]);
    expect(shown.stdout).toMatch(/title\s+Beacon on host-7/);
    expect(shown.stdout).toContain('Timeline');

    expect((await cli(t, ['incidents', 'assign', number, 'soc-tier2'])).stdout).toBe(`${number} assigned: status open, assigned to soc-tier2.\n`);
    expect((await json(t, ['incidents', 'ack', number])).status).toBe('acknowledged');
    expect(await json(t, ['incidents', 'resolve', number, '--resolution', 'mitigated', '--note', 'blocked at the proxy'])).toMatchObject({ status: 'resolved', resolution: 'mitigated' });
    expect((await json(t, ['incidents', 'verify', number, '--passed'])).status).toBe('verified');
    expect((await json(t, ['incidents', 'reopen', number, '--note', 'seen again'])).status).not.toBe('verified');
    expect(await json(t, ['incidents', 'close', number, '--reason', 'false_positive'])).toMatchObject({ status: 'closed', close_reason: 'false_positive' });

    const refused = await cli(t, ['incidents', 'ack', number]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/^error: invalid_transition: /);
    expect(refused.stderr).toContain('hint: Look at the incident');
    expect((await cli(t, ['incidents', 'close', number])).code).toBe(2);
    expect((await cli(t, ['incidents', 'verify', number, '--passed', '--failed'])).code).toBe(2);
    expect((await cli(t, ['incidents', 'show', 'INC-1999-0001'])).code).toBe(4);

    const trace = await cli(t, ['incidents', 'trace', number]);
    expect(trace.code, trace.stderr).toBe(0);
    expect(trace.stdout).toMatch(/^correlation \S+\nSTAGE\s+AT\s+EVENT\s+STREAM/);
    const traced = await json(t, ['incidents', 'trace', alert.body.incident_id]);
    expect(traced.events.map((e: any) => e.stage)).toEqual(expect.arrayContaining(['receipt', 'incident']));
    expect(traced.events.some((e: any) => e.stream === `incident-${alert.body.incident_id}`)).toBe(true);
    expect((await cli(t, ['incidents', 'trace', 'INC-1999-0001'])).code).toBe(4);

    const triage = await json(t, ['incidents', 'triage', number]);
    expect(triage).toMatchObject({ incident_number: number, status: expect.any(String) });
    const stats = await cli(t, ['incidents', 'stats']);
    expect(stats.stdout).toMatch(/^SOURCE\s+TOTAL/);
    expect(stats.stdout).toMatch(/edr\s+1\s+closed=1/);
  });

  it('event-types, and events publish, list and show', async () => {
    const types = await cli(t, ['event-types']);
    expect(types.stdout.split('\n')[0]).toMatch(/^TYPE\s+CATEGORY\s+SEVERITY\s+DESCRIPTION$/);
    expect(types.stdout).toMatch(/finding\.created\s+finding\s+derived/);
    const one = await json(t, ['event-types', 'finding.created']);
    expect(one.schema).toMatchObject({ type: 'object' });
    expect((await cli(t, ['event-types', 'finding.unknown'])).code).toBe(4);

    const file = join(HOME, 'finding.json');
    writeFileSync(file, JSON.stringify(one.example));
    const published = await json(t, ['events', 'publish', 'finding.created', '--data', `@${file}`, '--title', 'SQL injection in /login']);
    expect(published).toMatchObject({ event_type: 'finding.created', title: 'SQL injection in /login', data: one.example });
    const fromStdin = await cli(t, ['--json', 'events', 'publish', 'finding.created', '--data', '-'], {}, JSON.stringify(one.example));
    expect(fromStdin.code).toBe(0);

    const invalid = await cli(t, ['events', 'publish', 'finding.created', '--data', '{"nope":1}']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^error: invalid_event: /);
    expect(invalid.stderr.split('\n').length).toBeGreaterThan(2);
    const notJson = await cli(t, ['events', 'publish', 'finding.created', '--data', '{nope']);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('--data is not JSON');

    const listed = await cli(t, ['events', 'list', '--type', 'finding.created']);
    expect(listed.stdout).toMatch(new RegExp(`${published.id}\\s+\\S+\\s+finding\\.created\\s+\\w+\\s+SQL injection in /login`));
    expect((await cli(t, ['events', 'show', published.id])).stdout).toMatch(/title\s+SQL injection in \/login/);
    expect((await cli(t, ['events', 'show', '00000000-0000-4000-8000-000000000000'])).code).toBe(4);
  });

  it('outbound add, list, show, update, test, deliveries, delivery, redeliver, rotate-secret, recover and remove', async () => {
    const added = await cli(t, ['outbound', 'add', `${receiver.url}/siem`, '--event-types', 'finding.created', '--description', 'SIEM']);
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/secret {2}whsec_\S+ {3}\(shown only now/);
    const id = /Created webhook (\S+)/.exec(added.stdout)![1];

    expect((await cli(t, ['outbound', 'list'])).stdout).toMatch(new RegExp(`${id}\\s+envelope\\s+yes\\s+finding\\.created`));
    const before = await json(t, ['outbound', 'show', id]);
    expect(before).toMatchObject({ id, description: 'SIEM', event_types: ['finding.created'] });

    const updated = await json(t, ['outbound', 'update', id, '--event-types', 'finding.created,finding.regressed', '--no-description', '--webhook-url', `${receiver.url}/siem2`]);
    expect(updated).toMatchObject({ event_types: ['finding.created', 'finding.regressed'], description: null, url: `${receiver.url}/siem2` });
    expect(updated.secrets).toEqual(before.secrets);
    expect((await cli(t, ['outbound', 'update', id])).code).toBe(2);

    const tested = await cli(t, ['outbound', 'test', id]);
    expect(tested.code).toBe(0);
    expect(tested.stdout).toMatch(/attempt 1 .* succeeded {2}HTTP 200/);
    await receiver.waitFor(1);

    const example = (await json(t, ['event-types', 'finding.created'])).example;
    await json(t, ['events', 'publish', 'finding.created', '--data', JSON.stringify(example)]);
    const delivered = await eventually(async () => {
      const page = await json(t, ['outbound', 'deliveries', id, '--status', 'succeeded']);
      return page.items.length ? page.items[0] : undefined;
    });
    expect((await cli(t, ['outbound', 'deliveries', id])).stdout).toMatch(new RegExp(`${delivered.id}\\s+finding\\.created\\s+succeeded\\s+1\\s+200`));
    expect((await cli(t, ['outbound', 'delivery', delivered.id])).stdout).toMatch(/attempt 1 .* succeeded {2}HTTP 200/);

    const received = receiver.requests.length;
    expect((await cli(t, ['outbound', 'redeliver', delivered.id])).code).toBe(0);
    await receiver.waitFor(received + 1);

    const rotated = await json(t, ['outbound', 'rotate-secret', id, '--grace', '0']);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect((await cli(t, ['outbound', 'recover', id, '--since', '0'])).stdout).toBe('No dead letters in that window.\n');
    expect((await cli(t, ['outbound', 'recover', id])).code).toBe(2);

    expect((await json(t, ['outbound', 'update', id, '--enabled', 'false'])).enabled).toBe(false);
    const disabled = await cli(t, ['outbound', 'recover', id, '--since', '2026-01-01T00:00:00Z']);
    expect(disabled.code).toBe(5);
    expect(disabled.stderr).toMatch(/^error: webhook_disabled: /);

    expect((await cli(t, ['outbound', 'remove', id])).stdout).toBe(`Removed webhook ${id}.\n`);
    const gone = await cli(t, ['outbound', 'show', id]);
    expect(gone.code).toBe(4);
    expect(gone.stderr).toContain('hint: tw-cli outbound list');
    const badUrl = await cli(t, ['outbound', 'add', 'ftp://example.com/x']);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/^error: invalid_url: /);
  });

  it('triage settings show, add and remove', async () => {
    expect((await cli(t, ['triage', 'settings', 'show'])).stdout).toMatch(/^organisation\s+\S+/);
    expect((await cli(t, ['triage', 'settings', 'add', 'protected_domains', 'example.com'])).stdout).toBe('Added example.com to protected_domains.\n');
    expect((await json(t, ['triage', 'settings', 'show'])).protected_domains).toContain('example.com');
    expect((await cli(t, ['triage', 'settings', 'remove', 'protected_domains', 'example.com'])).code).toBe(0);
    expect((await json(t, ['triage', 'settings', 'show'])).protected_domains).not.toContain('example.com');
  });

  it('logs --follow prints new records as they come, never the lines of its own polls', async () => {
    const marker = 'follow-marker-3f9c';
    const child = spawn(process.execPath, [CLI, 'logs', '--filter', marker, '--follow', '--interval', '1'], {
      env: { ...process.env, XDG_CONFIG_HOME: HOME, TW_URL: t.url, TW_API_KEY: ADMIN_KEY },
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(stdout).toBe('');
      await fetch(`${t.url}/api/webhooks/${marker}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      await eventually(() => stdout.includes(`/api/webhooks/${marker}`), 10_000, 'the new record');
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const lines = stdout.trim().split('\n');
      expect(lines.length).toBeGreaterThan(0);
      // The polls' own URLs hold the marker (it is their filter), so they would match: they must not show.
      for (const line of lines) expect(line).not.toContain('/api/logs');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('health prints the store and the read side, without a key', async () => {
    const run = await cli(t, ['health'], { TW_API_KEY: '' });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^status\s+ok/);
    expect(run.stdout).toMatch(/CONSUMER\s+KIND\s+STATE/);
  });

  it('read-side parked and retry (instance admin)', async () => {
    expect(await cli(t, ['read-side', 'parked'])).toMatchObject({ code: 0, stdout: 'No parked events.\n' });
    expect(await json(t, ['read-side', 'parked', '--consumer', 'incident-list'])).toEqual([]);
    expect((await cli(t, ['read-side', 'retry', 'incident-list'])).stdout).toBe('Nothing parked for incident-list.\n');
    expect((await cli(t, ['read-side', 'retry', 'no-such-consumer'])).code).toBe(4);
  });
});
