import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { defenderEmail, incidentWhen } from '../fixtures/triage';
import { nowSeconds, postWebhook } from '../fixtures/webhooks';
import { runCli, type CliRun } from '../support/cli-process';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';


/** The built tw-cli, as a user runs it. */
function cli(t: TestApp, args: string[], key = ADMIN_KEY): Promise<CliRun> {
  return runCli(args, { ...process.env, TW_URL: t.url, TW_API_KEY: key });
}

const lookalike = (incident: any) => incident.triage_runs.at(-1).steps.find((s: any) => s.step === 'lookalike');
const reputation = (incident: any) => incident.triage_runs.at(-1).steps.find((s: any) => s.step === 'reputation');

describe('triage that works out of the box, with settings per organisation', () => {
  let t: TestApp;
  let timestamp = nowSeconds();
  /** Each source belongs to one organisation; the instance admin names it to read the incident. */
  const organisationOf = new Map<string, string>();
  const phish = async (source: string, secret: string, options: Parameters<typeof defenderEmail>[0]) => {
    const answer = await postWebhook(t.url, source, secret, defenderEmail(options), { timestamp: ++timestamp });
    expect(answer.status).toBe(202);
    const query = organisationOf.has(source) ? `?organisation_id=${organisationOf.get(source)}` : '';
    return incidentWhen(t, answer.body.incident_id, (i) => i.verdict !== null && i.triage_runs.every((r: any) => r.status === 'completed'), 10_000, query);
  };
  /** A second organisation with its own admin key and a phishing source. */
  const organisation = async (name: string, source: string) => {
    const created = await t.request('POST', '/api/organisations', { name });
    const key = await t.request('POST', `/api/organisations/${created.body.id}/api-keys`, { name: 'admin', scopes: ['admin'] });
    await t.request('POST', '/api/webhooks', { source, secret: `${source}-secret`, auto_triage: true, playbook: 'phishing_triage' }, key.body.key);
    organisationOf.set(source, created.body.id);
    return { id: created.body.id as string, key: key.body.key as string };
  };

  beforeAll(async () => {
    t = await startTestApp();
    timestamp = nowSeconds();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("judges the seed's phishing example malicious right after the seed's CLI line, with no file and no settings", async () => {
    const added = await cli(t, ['webhook', 'add', 'email-gateway', '--secret', 'your-secret-key', '--auto-triage', 'true', '--playbook', 'phishing_triage']);
    expect(added).toMatchObject({ code: 0, stderr: '' });
    const incident = await phish('email-gateway', 'your-secret-key', { sender: 'phisher@paypa1.com', subject: 'Urgent Action Required', recipients: ['user@company.com'] });
    expect(incident).toMatchObject({ verdict: 'malicious', severity: 'critical' });
    expect(lookalike(incident).evidence.matches).toEqual([expect.objectContaining({ domain: 'paypa1.com', protected: 'paypal.com', technique: 'homoglyph' })]);
    expect(incident.triage_runs[0].reasons).toContain('paypa1.com looks like protected paypal.com (homoglyph) (+60)');
  });

  it("learns the organisation's own domain from its recipients and catches a look-alike of it", async () => {
    const northwind = await organisation('Northwind', 'northwind-mail');
    // The first email the organisation ever reports: its recipients' domain is learned before it is judged.
    const incident = await phish('northwind-mail', 'northwind-mail-secret', { sender: 'it-support@n0rthwind-traders.com', recipients: ['jane@northwind-traders.com'] });
    expect(incident).toMatchObject({ verdict: 'malicious' });
    expect(lookalike(incident).evidence.matches).toEqual([expect.objectContaining({ protected: 'northwind-traders.com', technique: 'homoglyph' })]);
    const settings = await t.request('GET', `/api/organisations/${northwind.id}/triage-settings`, undefined, northwind.key);
    expect(settings.status).toBe(200);
    expect(settings.body).toMatchObject({ origin: 'instance', learned_domains: ['northwind-traders.com'], learn_own_domains: true, brand_domains: true });
    expect(settings.body.effective_protected_domains).toContainEqual({ domain: 'northwind-traders.com', origin: 'learned' });
    expect(settings.body.effective_protected_domains).toContainEqual({ domain: 'paypal.com', origin: 'brand' });
    expect(settings.body.brand_list.source).toMatch(/Check Point/);
  });

  it('applies a setting changed through the API to the next triage, without a restart, and keeps it to its organisation', async () => {
    const contoso = await organisation('Contoso', 'contoso-mail');
    const fabrikam = await organisation('Fabrikam', 'fabrikam-mail');
    const before = await phish('contoso-mail', 'contoso-mail-secret', { sender: 'offers@bulk-deals.example', recipients: ['sam@contoso.example'] });
    expect(before.verdict).toBe('suspicious');

    const path = `/api/organisations/${contoso.id}/triage-settings`;
    const added = await t.request('POST', `${path}/entries`, { list: 'block.domains', value: 'Bulk-Deals.example' }, contoso.key);
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ origin: 'api', block: { domains: ['bulk-deals.example'] } });
    const after = await phish('contoso-mail', 'contoso-mail-secret', { sender: 'offers@bulk-deals.example', recipients: ['sam@contoso.example'], subject: 'Deal 2' });
    expect(after).toMatchObject({ verdict: 'malicious' });
    expect(reputation(after).evidence.blocked).toEqual([expect.objectContaining({ value: 'bulk-deals.example' })]);

    // Another organisation: neither its settings nor its verdicts change, and it cannot see or edit Contoso's.
    expect((await t.request('GET', `/api/organisations/${fabrikam.id}/triage-settings`, undefined, fabrikam.key)).body.block.domains).toEqual([]);
    const elsewhere = await phish('fabrikam-mail', 'fabrikam-mail-secret', { sender: 'offers@bulk-deals.example', recipients: ['kim@fabrikam.example'] });
    expect(elsewhere.verdict).toBe('suspicious');
    expect((await t.request('GET', path, undefined, fabrikam.key)).status).toBe(404);
    expect((await t.request('POST', `${path}/entries`, { list: 'block.domains', value: 'x.example' }, fabrikam.key)).status).toBe(404);

    // Removing the entry undoes it; removing it again changes nothing.
    const removed = await t.request('DELETE', `${path}/entries?list=block.domains&value=bulk-deals.example`, undefined, contoso.key);
    expect(removed).toMatchObject({ status: 200, body: { block: { domains: [] } } });
    expect((await t.request('DELETE', `${path}/entries?list=block.domains&value=bulk-deals.example`, undefined, contoso.key)).status).toBe(200);
  });

  it('replaces the settings with PUT, validating them like the configuration file, and records each edit on the organisation stream', async () => {
    const woodgrove = await organisation('Woodgrove', 'woodgrove-mail');
    const path = `/api/organisations/${woodgrove.id}/triage-settings`;
    const put = await t.request(
      'PUT',
      path,
      {
        protected_domains: ['woodgrove.example'],
        brand_domains: false,
        unprotected_domains: ['partner.example'],
        asset_criticality: [{ pattern: 'dc-*', criticality: 'critical' }],
        routing: [{ verdict: 'malicious', assignee: 'woodgrove-soc' }],
        thresholds: { malicious_score: 60 },
      },
      woodgrove.key,
    );
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ origin: 'api', brand_domains: false, thresholds: { malicious_score: 60, suspicious_score: 30 } });
    expect(put.body.effective_protected_domains).toEqual([{ domain: 'woodgrove.example', origin: 'configured' }]);
    // Without the brand list, paypa1.com is no look-alike of anything this organisation protects.
    const paypal = await phish('woodgrove-mail', 'woodgrove-mail-secret', { sender: 'x@paypa1.com', recipients: ['a@partner.example'] });
    expect(lookalike(paypal).evidence.matches).toEqual([]);
    const own = await phish('woodgrove-mail', 'woodgrove-mail-secret', { sender: 'x@wood-grove.example', recipients: ['a@woodgrove.example'], subject: 'Pay now' });
    expect(own).toMatchObject({ verdict: 'malicious', assignee: 'woodgrove-soc' });

    for (const bad of [{ thresholds: { malicious_score: 500 } }, { protected_domains: ['not a domain'] }, { retry: { max_attempts: 2 } }, { surprise: true }]) {
      const refused = await t.request('PUT', path, bad, woodgrove.key);
      expect(refused.status, JSON.stringify(bad)).toBe(400);
    }
    expect((await t.request('POST', `${path}/entries`, { list: 'nonsense', value: 'x' }, woodgrove.key)).status).toBe(400);
    // The same settings again are no edit: nothing is appended.
    expect((await t.request('PUT', path, stripView(put.body), woodgrove.key)).status).toBe(200);
    const stream = await t.app.get<symbol, EventStore>(EVENT_STORE).readStream(`organisation-${woodgrove.id}`);
    const changes = stream.filter((e) => e.type === 'TriageSettingsChanged');
    expect(changes).toHaveLength(1);
    expect(changes[0]!.data).toMatchObject({ organisationId: woodgrove.id, change: { kind: 'replace' }, settings: { brandDomains: false } });
    expect(changes[0]!.metadata.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('edits settings with tw-cli triage settings', async () => {
    const add = await cli(t, ['triage', 'settings', 'add', 'allow.domains', 'newsletter.example']);
    expect(add).toMatchObject({ code: 0, stderr: '' });
    expect(add.stdout).toContain('Added newsletter.example to allow.domains');
    const critical = await cli(t, ['triage', 'settings', 'add', 'asset_criticality', 'srv-*', '--criticality', 'high']);
    expect(critical.code).toBe(0);
    const show = await cli(t, ['triage', 'settings', 'show']);
    expect(show.stdout).toContain('domains: newsletter.example');
    expect(show.stdout).toContain('srv-*=high');
    expect(show.stdout).toContain('company.com (learned)');
    const json = JSON.parse((await cli(t, ['--json', 'triage', 'settings', 'show'])).stdout);
    expect(json).toMatchObject({ origin: 'api', allow: { domains: ['newsletter.example'] }, asset_criticality: [{ pattern: 'srv-*', criticality: 'high' }] });
    const dir = mkdtempSync(join(tmpdir(), 'towline-settings-'));
    try {
      const file = join(dir, 'settings.json');
      writeFileSync(file, JSON.stringify({ block: { hashes: ['44d88612fea8a8f36de82e1278abb02f'] } }));
      const set = await cli(t, ['triage', 'settings', 'set', file]);
      expect(set.code).toBe(0);
      expect((await t.request('GET', '/api/organisations/default/triage-settings')).body).toMatchObject({ allow: { domains: [] }, block: { hashes: ['44d88612fea8a8f36de82e1278abb02f'] } });
      const remove = await cli(t, ['triage', 'settings', 'remove', 'block.hashes', '44d88612fea8a8f36de82e1278abb02f']);
      expect(remove.stdout).toContain('Removed 44d88612fea8a8f36de82e1278abb02f from block.hashes');
      const refused = await cli(t, ['triage', 'settings', 'add', 'protected_domains', 'not a domain']);
      expect(refused.code, 'a 400 is a usage error (docs/cli.md)').toBe(2);
      expect(refused.stderr).toContain('protected_domains');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The writable part of a GET answer, to PUT it back. */
function stripView(view: Record<string, unknown>): Record<string, unknown> {
  const { organisation_id: _o, origin: _origin, changed_at: _c, learned_domains: _l, brand_list: _b, effective_protected_domains: _e, ...settings } = view;
  return settings;
}

describe('the configuration file seeds triage settings and never overwrites edits', () => {
  it('applies the file to an organisation without settings, keeps an edit across a restart with another file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'towline-seed-'));
    const dataDir = mkdtempSync(join(tmpdir(), 'towline-seed-data-'));
    const file = join(dir, 'webhook_config.yaml');
    try {
      writeFileSync(file, 'playbooks:\n  protected_domains: [first.example]\n');
      let t = await startTestApp({ env: { TW_CONFIG: file }, dataDir });
      const first = await t.request('GET', '/api/organisations/default/triage-settings');
      expect(first.body).toMatchObject({ origin: 'instance', protected_domains: ['first.example'] });
      await t.request('POST', '/api/organisations/default/triage-settings/entries', { list: 'protected_domains', value: 'edited.example' });
      await t.close();

      writeFileSync(file, 'playbooks:\n  protected_domains: [second.example]\n');
      t = await startTestApp({ env: { TW_CONFIG: file }, dataDir });
      const after = await t.request('GET', '/api/organisations/default/triage-settings');
      expect(after.body).toMatchObject({ origin: 'api', protected_domains: ['first.example', 'edited.example'] });
      await t.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
