import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { SEED_CONFIG } from '../fixtures/seed-config';
import { postWebhook } from '../fixtures/webhooks';
import { startTestApp, type TestApp } from '../support/test-app';


const alert = (id: string, severity = 'high') => ({ event_type: 'security_alert', data: { alert_id: id, severity } });

describe('the webhook configuration file (TW_CONFIG)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'towline-config-'));
  const file = join(dir, 'webhook_config.yaml');
  const dataDir = mkdtempSync(join(tmpdir(), 'towline-config-data-'));
  let t: TestApp | undefined;

  const start = async (yaml: string) => {
    writeFileSync(file, yaml);
    t = await startTestApp({ dataDir, env: { TW_CONFIG: file } });
    return t;
  };
  const stop = async () => {
    await t?.close();
    t = undefined;
  };
  /** Events reconciling the file can write (triage and other consumers keep working in the background). */
  const events = async (app: TestApp) =>
    (
      await app.app
        .get<symbol, EventStore>(EVENT_STORE)
        .readAll({ filter: { streamPrefixes: ['source-', 'sourceName-', 'webhookConfig-'] } })
    ).length;

  beforeAll(() => {
    process.env.EMAIL_GATEWAY_SECRET = 'gateway-secret-from-env';
    process.env.EDR_SECRET = 'edr-secret-from-env';
  });
  afterAll(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("registers the seed's sources in the default organisation, with their secrets from the environment", async () => {
    const app = await start(SEED_CONFIG);
    const sources = (await app.request('GET', '/api/webhooks')).body;
    expect(sources.map((s: { source: string }) => s.source)).toEqual(['edr', 'email-gateway']);
    expect(sources[1]).toMatchObject({
      managed_by: 'config',
      auto_triage: true,
      playbook: 'phishing_triage',
      severity_mapping: { critical: 'critical', high: 'high', medium: 'medium', low: 'low' },
    });
    expect((await postWebhook(app.url, 'email-gateway', 'gateway-secret-from-env', alert('cfg-1'))).status).toBe(202);
    expect((await postWebhook(app.url, 'edr', 'edr-secret-from-env', alert('cfg-2'))).status).toBe(202);
    expect((await postWebhook(app.url, 'edr', '${EDR_SECRET}', alert('cfg-3'))).status).toBe(401);
    const stored = JSON.stringify((await app.app.get<symbol, EventStore>(EVENT_STORE).readAll()).map((e) => [e.data, e.metadata]));
    expect(stored).not.toContain('secret-from-env');
  });

  it('refuses API changes to sources the file manages', async () => {
    const app = t!;
    for (const [method, path, body] of [
      ['PATCH', '/api/webhooks/edr', { mode: 'async' }],
      ['DELETE', '/api/webhooks/edr', undefined],
      ['POST', '/api/webhooks/edr/secrets', {}],
    ] as const) {
      const response = await app.request(method, path, body);
      expect(response, `${method} ${path}`).toMatchObject({ status: 409, body: { error: { code: 'source_managed_by_config' } } });
    }
    expect((await app.request('POST', '/api/webhooks', { source: 'edr', secret: 'abcdefgh' })).status).toBe(409);
  });

  it('appends nothing when restarted with the same file', async () => {
    const before = await events(t!);
    await stop();
    const app = await start(SEED_CONFIG);
    expect(await events(app)).toBe(before);
    expect((await postWebhook(app.url, 'edr', 'edr-secret-from-env', alert('cfg-4'))).status).toBe(202);
  });

  it('applies what changed at the next start: settings, a rotated secret, a removed source, a new one', async () => {
    await stop();
    process.env.EDR_SECRET = 'edr-secret-rotated';
    const changed = SEED_CONFIG.replace('playbook: malware_triage', 'playbook: malware_triage\n    mode: async')
      .replace(/ {2}email-gateway:[\s\S]*?low: low\n/, '')
      .concat('  siem:\n    secret: "literal-siem-secret"\n    format: splunk\n');
    const app = await start(changed);
    const sources = (await app.request('GET', '/api/webhooks')).body;
    expect(sources.map((s: { source: string }) => s.source)).toEqual(['edr', 'siem']);
    const edr = sources[0];
    expect(edr).toMatchObject({ mode: 'async' });
    // Rotated, with the usual grace period: the old secret keeps working for now.
    expect(edr.secrets).toHaveLength(2);
    expect(edr.secrets[0].expires_at).not.toBeNull();
    expect((await postWebhook(app.url, 'edr', 'edr-secret-rotated', alert('cfg-5'))).body.status).toBe('queued');
    expect((await postWebhook(app.url, 'edr', 'edr-secret-from-env', alert('cfg-6'))).body.status).toBe('queued');
    expect((await postWebhook(app.url, 'email-gateway', 'gateway-secret-from-env', alert('cfg-7'))).body.error.code).toBe('unknown_source');
    expect((await postWebhook(app.url, 'siem', 'literal-siem-secret', alert('cfg-8'))).status).toBe(202);

    const before = await events(app);
    await stop();
    const again = await start(changed);
    expect(await events(again)).toBe(before);
  });

  it('takes over a source registered through the API when the file declares it', async () => {
    await t!.request('POST', '/api/webhooks', { source: 'adopted', secret: 'api-secret-1', playbook: 'malware_triage' });
    await stop();
    const app = await start(`sources:\n  adopted:\n    secret: api-secret-1\n    playbook: phishing_triage\n`);
    const adopted = await app.request('GET', '/api/webhooks/adopted');
    expect(adopted.body).toMatchObject({ managed_by: 'config', playbook: 'phishing_triage', secrets: [expect.objectContaining({ expires_at: null })] });
    // The file now declares only it: the others it used to declare are gone.
    expect((await app.request('GET', '/api/webhooks')).body.map((s: { source: string }) => s.source)).toEqual(['adopted']);
  });

  it("does not start when the file declares a name another organisation's source holds", async () => {
    const org = await t!.request('POST', '/api/organisations', { name: 'Holder' });
    await t!.request('POST', '/api/webhooks', { source: 'contested', secret: 'abcdefgh', organisation_id: org.body.id });
    await stop();
    writeFileSync(file, 'sources:\n  contested:\n    secret: abcdefgh\n');
    await expect(startTestApp({ dataDir, env: { TW_CONFIG: file } })).rejects.toThrow(
      /sources\.contested: the name is taken by a source of another organisation/,
    );
  });

  it('does not start when a variable is missing, and says which', async () => {
    await stop();
    delete process.env.EDR_SECRET;
    writeFileSync(file, SEED_CONFIG);
    await expect(startTestApp({ env: { TW_CONFIG: file } })).rejects.toThrow(/sources\.edr\.secret: environment variable EDR_SECRET is not set/);
  });

  it('does not start with an unknown key in a source, and only warns about an unknown section', async () => {
    writeFileSync(file, 'sources:\n  edr:\n    secret: abcdefgh\n    auto_triag: true\n');
    await expect(startTestApp({ env: { TW_CONFIG: file } })).rejects.toThrow(/sources\.edr: property auto_triag should not exist/);
    const app = await start('dashboards:\n  main: {}\nsources:\n  edr:\n    secret: abcdefgh\n');
    const warnings = (await app.request('GET', '/api/logs?filter=unknown%20top-level&tail=10')).body;
    expect(warnings).toEqual([expect.objectContaining({ msg: expect.stringContaining("unknown top-level key 'dashboards' ignored") })]);
  });
});
