import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { settle } from '../fixtures/triage';
import { postWebhook } from '../fixtures/webhooks';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';
import { AUDIT_SECRET } from './audit-support';
import { CLI, runCli, type CliRun } from '../support/cli-process';

const CONFIG_HOME = mkdtempSync(join(tmpdir(), 'tw-cli-audit-'));

function cli(t: TestApp, args: string[]): Promise<CliRun> {
  return runCli(args, { ...process.env, XDG_CONFIG_HOME: CONFIG_HOME, TW_URL: t.url, TW_API_KEY: ADMIN_KEY });
}

describe('tw-cli audit', () => {
  let t: TestApp;
  let incident: string;

  beforeAll(async () => {
    t = await startTestApp();
    expect((await t.request('POST', '/api/webhooks', { source: 'cli-siem', secret: AUDIT_SECRET })).status).toBe(201);
    for (let i = 0; i < 3; i++) {
      const answer = await postWebhook(t.url, 'cli-siem', AUDIT_SECRET, { event_type: 'security_alert', data: { alert_id: `cli-${i}`, severity: 'high' } });
      incident = answer.body.incident_id;
    }
    await settle(t.app.get<symbol, EventStore>(EVENT_STORE));
  });
  afterAll(async () => {
    await t?.close();
    rmSync(CONFIG_HOME, { recursive: true, force: true });
  });

  it('exports, then verifies the file offline against the pinned key; a changed byte fails it with exit 1', async () => {
    const checkpoint = await cli(t, ['audit', 'checkpoint']);
    expect(checkpoint.code, checkpoint.stderr).toBe(0);
    expect(checkpoint.stdout).toMatch(/ledger-[0-9a-f-]{36}\s+1\s/);
    const key = JSON.parse((await cli(t, ['--json', 'audit', 'checkpoint', '--public-key'])).stdout).public_key;

    const file = join(CONFIG_HOME, 'all.ndjson');
    const exported = await cli(t, ['audit', 'export', '--all', '--output', file]);
    expect(exported.code, exported.stderr).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(exported.stderr).toContain(`exported ${lines.length} record(s)`);
    // To stdout too, byte for byte the same.
    const piped = await cli(t, ['audit', 'export', '--all']);
    expect(piped.stdout).toBe(readFileSync(file, 'utf8'));

    // Offline: the server is not asked (a URL nothing listens on).
    const offline = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'audit', 'verify', '--file', file, '--public-key', key], { env: { ...process.env, XDG_CONFIG_HOME: CONFIG_HOME, TW_URL: 'http://127.0.0.1:9', TW_API_KEY: ADMIN_KEY } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stdout).toContain('ok: every chain and checkpoint verifies');
    expect(offline.stdout).toMatch(/key [0-9a-f]{16}, pinned/);

    const records = lines.map((l) => JSON.parse(l));
    const target = records.findIndex((r) => r.type === 'IncidentOpened');
    records[target].data.severity = 'low';
    const edited = join(CONFIG_HOME, 'edited.ndjson');
    writeFileSync(edited, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const broken = await cli(t, ['audit', 'verify', '--file', edited]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('BROKEN: 1 break(s)');
    expect(broken.stdout).toContain('data_changed');
    expect(broken.stderr).toContain('--public-key');

    const json = JSON.parse((await cli(t, ['--json', 'audit', 'verify', '--file', edited])).stdout);
    expect(json.breaks).toEqual([expect.objectContaining({ stream: records[target].stream, revision: records[target].revision, kind: 'data_changed' })]);
    expect((await cli(t, ['audit', 'verify', '--file', join(CONFIG_HOME, 'missing.ndjson')])).code).toBe(2);
    expect((await cli(t, ['audit', 'verify'])).code).toBe(2);
  });

  it('lists streams, shows one, verifies on the server, traces an incident and replays', async () => {
    const streams = await cli(t, ['audit', 'streams', '--prefix', 'incident-']);
    expect(streams.code, streams.stderr).toBe(0);
    expect(streams.stdout).toContain(`incident-${incident}`);
    const shown = await cli(t, ['audit', 'show', `incident-${incident}`]);
    expect(shown.stdout).toMatch(/^REV\s+POSITION\s+TYPE/);
    expect(shown.stdout).toContain('IncidentOpened');
    expect((await cli(t, ['audit', 'show', 'incident-nope'])).code).toBe(4);

    const one = await cli(t, ['audit', 'verify', '--stream', `incident-${incident}`]);
    expect(one.code, one.stderr).toBe(0);
    const all = await cli(t, ['--json', 'audit', 'verify', '--all']);
    expect(all.code, all.stderr).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({ ok: true, breaks: [] });

    const trace = await cli(t, ['audit', 'trace', '--incident', incident]);
    expect(trace.code, trace.stderr).toBe(0);
    expect(trace.stdout.split('\n')[1]).toMatch(/^receipt\s+AlertReceived/);

    const replay = await cli(t, ['audit', 'replay']);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/audit-streams\s+\d+\s+\d+\s+yes/);
  });
});
