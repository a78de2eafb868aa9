import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/event-store/hash-chain';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite.event-store';
import { defenderEmail, eventually } from '../fixtures/triage';
import { postWebhook } from '../fixtures/webhooks';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { ADMIN_KEY } from '../support/test-app';

const SECRET = 'crash-secret-0001';
const config = (testing: string) => `
sources:
  email-gateway:
    secret: "${SECRET}"
    auto_triage: true
    playbook: phishing_triage
playbooks:
  protected_domains: [paypal.com]
  routing: [{ verdict: malicious, assignee: phishing-team }]
  retry: { step_timeout_seconds: 120 }
${testing}`;

/**
 * How the kill lands mid-playbook: the test-only setting `testing.step_delay_ms` holds the last step
 * (`phishing_triage.campaign`) for a minute before it runs, so the first three steps are recorded and the
 * fourth is in progress when the server is killed. The restarted server runs without the delay.
 */
const SLOW_CAMPAIGN = '  testing:\n    step_delay_ms:\n      phishing_triage.campaign: 60000\n';

const stepsStarted = (server: ServerProcess) =>
  server.logs.map((l) => /^Triage step phishing_triage\.(\w+) started/.exec(String(l.msg))?.[1]).filter((step) => step !== undefined);

describe('auto-triage across a crash', () => {
  const dir = mkdtempSync(join(tmpdir(), 'towline-triage-crash-'));
  const file = join(dir, 'webhook_config.yaml');
  const env = { TW_DATA_DIR: join(dir, 'data'), TW_ADMIN_KEY: ADMIN_KEY, TW_CONFIG: file };
  const servers: ServerProcess[] = [];
  afterAll(() => {
    for (const server of servers) server.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const incident = async (server: ServerProcess, id: string) =>
    (await fetch(`${server.url}/api/incidents/${id}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then((r) => r.json())) as any;

  it('resumes a playbook killed mid-run (SIGKILL) at the first unfinished step, repeating none', async () => {
    writeFileSync(file, config(SLOW_CAMPAIGN));
    const first = await startServerProcess(env);
    servers.push(first);
    const answer = await postWebhook(first.url, 'email-gateway', SECRET, defenderEmail({ sender: 'billing@paypa1.com' }));
    expect(answer.status).toBe(202);
    const id = answer.body.incident_id as string;

    await eventually(async () => (await incident(first, id)).triage_runs?.[0]?.steps.length === 3 && stepsStarted(first).includes('campaign'), 15_000, 'three steps done, the fourth running');
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(stepsStarted(first)).toEqual(['extract', 'lookalike', 'reputation', 'campaign']);

    writeFileSync(file, config(''));
    const second = await startServerProcess(env);
    servers.push(second);
    const done = await eventually(async () => {
      const found = await incident(second, id);
      return found.triage_runs?.[0]?.status === 'completed' && found.assignee ? found : undefined;
    }, 15_000, 'the resumed run');

    // Only the interrupted step ran again; the run finished as one run, each step recorded once.
    expect(stepsStarted(second)).toEqual(['campaign']);
    expect(done).toMatchObject({ verdict: 'malicious', assignee: 'phishing-team', triage_runs: [expect.objectContaining({ trigger: 'opened' })] });
    expect(done.triage_runs[0].steps.map((s: any) => s.step)).toEqual(['extract', 'lookalike', 'reputation', 'campaign']);
    const types = done.timeline.map((e: any) => e.type);
    expect(types.filter((type: string) => type === 'TriageStarted')).toHaveLength(1);
    expect(types.filter((type: string) => type === 'TriageStepCompleted')).toHaveLength(4);
    expect(types.filter((type: string) => type === 'TriageCompleted')).toHaveLength(1);

    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    const store = new SqliteEventStore(join(env.TW_DATA_DIR, 'towline.db'));
    expect(verifyChain(await store.readStream(`incident-${id}`))).toMatchObject({ ok: true });
    await store.close();
  });
});
