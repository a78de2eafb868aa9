import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { domainToASCII } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/event-store/event-store.port';
import { triageEventId } from '../../src/triage/triage-runs';
import { defenderEmail, falconDetection, incidentEvents, incidentWhen, triaged } from '../fixtures/triage';
import { postWebhook } from '../fixtures/webhooks';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';

const EMAIL_SECRET = 'triage-email-secret';
const EDR_SECRET = 'triage-edr-secret';

/** The seed's sources, with a playbooks section: the organisation's brand, its lists, its assets and its routing. */
const CONFIG = `
sources:
  email-gateway:
    secret: "${EMAIL_SECRET}"
    auto_triage: true
    playbook: phishing_triage
    severity_mapping:
      critical: critical
      high: high
      medium: medium
      low: low
  edr:
    secret: "${EDR_SECRET}"
    auto_triage: true
    playbook: malware_triage

playbooks:
  protected_domains: [paypal.com, company.com]
  allow:
    domains: [company.com]
  block:
    domains: [evil.example]
  asset_criticality:
    - pattern: "dc-*"
      criticality: critical
  thresholds:
    campaign_size: 3
    repeat_detections: 3
  routing:
    - verdict: malicious
      playbook: phishing_triage
      assignee: phishing-team
    - escalated: true
      assignee: ir-oncall
`;

describe('auto-triage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'towline-triage-'));
  const file = join(dir, 'webhook_config.yaml');
  let t: TestApp;
  let store: EventStore;

  const phish = async (options: Parameters<typeof defenderEmail>[0]) => {
    const answer = await postWebhook(t.url, 'email-gateway', EMAIL_SECRET, defenderEmail(options));
    expect(answer.status).toBe(202);
    return answer.body.incident_id as string;
  };
  const detect = async (options: Parameters<typeof falconDetection>[0], source = 'edr') => {
    const answer = await postWebhook(t.url, source, EDR_SECRET, falconDetection(options));
    expect(answer.status).toBe(202);
    return answer.body.incident_id as string;
  };

  beforeAll(async () => {
    writeFileSync(file, CONFIG);
    t = await startTestApp({ env: { TW_CONFIG: file } });
    store = t.app.get<symbol, EventStore>(EVENT_STORE);
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('triages a phishing email from a look-alike of a protected domain, assigns it, and records every step on its stream', async () => {
    const id = await phish({ sender: 'PayPal Billing <billing@paypa1.com>', recipients: ['ceo@company.com', 'cfo@company.com'] });
    const incident = await incidentWhen(t, id, (i) => i.verdict !== null && i.assignee !== null);
    expect(incident).toMatchObject({ status: 'open', verdict: 'malicious', triage_score: 90, severity: 'critical', assignee: 'phishing-team' });
    const [run] = incident.triage_runs;
    expect(run).toMatchObject({ playbook: 'phishing_triage', trigger: 'opened', status: 'completed', verdict: 'malicious', score: 90 });
    expect(run.reasons).toEqual(['vendor severity high (+30)', 'paypa1.com looks like protected paypal.com (homoglyph) (+60)']);
    expect(run.steps.map((s: any) => [s.step, s.outcome])).toEqual([
      ['extract', 'extracted'],
      ['lookalike', 'lookalike_found'],
      ['reputation', 'unknown'],
      ['campaign', 'single'],
    ]);
    expect(run.steps[0].evidence).toMatchObject({ sender: 'billing@paypa1.com', subject: 'Urgent Action Required', recipients: ['ceo@company.com', 'cfo@company.com'] });
    expect(run.steps[1].evidence.matches).toEqual([expect.objectContaining({ domain: 'paypa1.com', protected: 'paypal.com', technique: 'homoglyph' })]);
    expect(run.steps.every((s: any) => /^[0-9a-f]{64}$/.test(s.input_digest) && s.duration_ms >= 0)).toBe(true);

    // The stream itself: each step once, under the id derived from (incident, run, step), by system:triage.
    const events = await incidentEvents(store, id);
    expect(events.map((e) => e.type)).toEqual([
      'IncidentOpened',
      'AlertAttached',
      'TriageStarted',
      'TriageStepCompleted',
      'TriageStepCompleted',
      'TriageStepCompleted',
      'TriageStepCompleted',
      'TriageCompleted',
      'IncidentSeverityChanged',
      'IncidentAssigned',
    ]);
    const steps = events.filter((e) => e.type === 'TriageStepCompleted');
    expect(steps.map((e) => e.id)).toEqual(['extract', 'lookalike', 'reputation', 'campaign'].map((step) => triageEventId(id, run.run_id, step)));
    expect(events.slice(3).every((e) => e.metadata.actor === 'system:triage')).toBe(true);
    expect(incident.timeline.map((e: any) => e.type)).toEqual(events.map((e) => e.type));
  });

  it('sees through an IDN homoglyph (xn--) of a protected domain', async () => {
    const idn = domainToASCII('pаypal.com'); // Cyrillic а
    const id = await phish({ sender: `security@${idn}`, subject: 'Your account is limited' });
    const incident = await triaged(t, id);
    expect(incident).toMatchObject({ verdict: 'malicious', assignee: 'phishing-team' });
    const lookalike = incident.triage_runs[0].steps.find((s: any) => s.step === 'lookalike');
    expect(lookalike.evidence.matches).toEqual([expect.objectContaining({ domain: idn, unicode: 'pаypal.com', technique: 'homoglyph', idn: true })]);
    expect(incident.triage_runs[0].reasons).toContain('pаypal.com looks like protected paypal.com (IDN homoglyph) (+60)');
  });

  it('closes a benign email by itself, saying why', async () => {
    const id = await phish({ sender: 'newsletter@company.com', subject: 'Monthly update', severity: 'low' });
    const incident = await incidentWhen(t, id, (i) => i.status === 'closed');
    expect(incident).toMatchObject({ verdict: 'benign', close_reason: 'benign', severity: 'low', assignee: null, closed_at: expect.any(String) });
    const closed = incident.timeline.find((e: any) => e.type === 'IncidentClosed');
    expect(closed).toMatchObject({ actor: 'system:triage', data: { reason: 'benign', duplicateOf: null } });
    expect(closed.data.note).toContain('allow-listed sender newsletter@company.com (-40)');
  });

  it('folds a campaign — one sender, one subject, several recipients — into its first incident, with the count', async () => {
    const ids: string[] = [];
    for (const recipient of ['a@company.com', 'b@company.com', 'c@company.com']) {
      ids.push(await phish({ sender: 'promo@bulk-mailer.example', subject: 'Your invoice is ready', recipients: [recipient], severity: 'medium' }));
      await triaged(t, ids.at(-1)!);
    }
    const [first, ...members] = ids;
    for (const member of members) {
      const folded = await incidentWhen(t, member, (i) => i.status === 'closed');
      expect(folded).toMatchObject({ close_reason: 'duplicate', duplicate_of: first });
      expect(folded.triage_runs[0].grouped_into).toMatchObject({ incidentId: first, kind: 'campaign', key: 'sender:promo@bulk-mailer.example' });
    }
    // The first incident keeps the count and is judged again with it.
    const campaign = await incidentWhen(
      t,
      first,
      (i) => i.related_count === 3 && i.triage_status === 'completed' && i.triage_runs.at(-1).status === 'completed' && i.triage_runs.at(-1).reasons.some((r: string) => r.startsWith('campaign of 3')),
    );
    expect(campaign).toMatchObject({ status: 'open', verdict: 'suspicious', triage_score: 40 });
    expect(campaign.timeline.filter((e: any) => e.type === 'IncidentLinked').map((e: any) => [e.data.memberIncidentId, e.data.count])).toEqual([
      [members[0], 2],
      [members[1], 3],
    ]);
  });

  it('escalates a malware detection on a critical host', async () => {
    const id = await detect({ host: 'DC-01.corp.example' });
    const incident = await incidentWhen(t, id, (i) => i.assignee !== null);
    expect(incident).toMatchObject({ verdict: 'suspicious', severity: 'critical', assignee: 'ir-oncall' });
    expect(incident.triage_runs[0]).toMatchObject({ escalated: true, steps: expect.arrayContaining([expect.objectContaining({ step: 'host_criticality', outcome: 'critical' })]) });
    expect(incident.triage_runs[0].reasons).toEqual(['vendor severity high (+30)', 'critical host DC-01.corp.example (dc-*) (+20)', 'escalated: critical host']);
  });

  it('groups repeated detections on one host under its first incident, and escalates that one', async () => {
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await triaged(t, await detect({ host: 'WS-0042', name: `Suspicious process ${i}` })));
    expect(results.map((i) => i.triage_runs[0].steps.find((s: any) => s.step === 'host_history').evidence.detections)).toEqual([1, 2, 3]);
    const [first, second, third] = results;
    // The later detections are the first incident's duplicates, as a phishing campaign's later emails are.
    for (const member of [second, third]) {
      const closed = await incidentWhen(t, member.id, (i) => i.status === 'closed');
      expect(closed).toMatchObject({ close_reason: 'duplicate', duplicate_of: first.id });
      expect(closed.triage_runs[0].steps.find((s: any) => s.step === 'host_history').outcome).toBe('member_of_host_group');
    }
    // The first is triaged again with them, counts three detections, escalates and is routed.
    const grouped = await incidentWhen(t, first.id, (i) => i.assignee !== null && i.related_count === 3);
    expect(grouped).toMatchObject({ status: 'open', severity: 'critical', assignee: 'ir-oncall' });
    const last = grouped.triage_runs.at(-1);
    expect(last).toMatchObject({ escalated: true, trigger: expect.stringMatching(/^linked:/) });
    expect(last.reasons).toContain('3 detections on WS-0042 within 60 min (+30)');
  });

  it('re-runs triage on demand as a new run, with the settings in force now', async () => {
    const id = await detect({ host: 'WS-0077', sha256: 'a'.repeat(64) });
    const before = await triaged(t, id);
    expect(before.verdict).toBe('suspicious');
    const blocked = await t.request('POST', '/api/organisations/default/triage-settings/entries', { list: 'block.hashes', value: 'a'.repeat(64) });
    expect(blocked.status).toBe(200);
    const rerun = await t.request('POST', `/api/incidents/${before.number}/triage`);
    expect(rerun).toMatchObject({ status: 202, body: { incident_id: id, incident_number: before.number, status: 'started', run_id: expect.any(String) } });
    const after = await triaged(t, id, 2);
    expect(after.triage_runs).toHaveLength(2);
    expect(after.triage_runs[1]).toMatchObject({ run_id: rerun.body.run_id, trigger: expect.stringMatching(/^manual:/), verdict: 'malicious' });
    expect(after.triage_runs[1].reasons).toContain(`blocked hash ${'a'.repeat(64)} (+60)`);
    expect(after).toMatchObject({ verdict: 'malicious' });
    expect((await t.request('POST', '/api/incidents/INC-1999-9999/triage')).status).toBe(404);
  });

  it("stops for a project whose monitoring is paused, while its alerts are still recorded", async () => {
    const project = (await t.request('POST', '/api/organisations/default/projects', { name: 'plant-floor' })).body.id;
    const registered = await t.request('POST', '/api/webhooks', {
      source: 'plant-edr',
      secret: EDR_SECRET,
      auto_triage: true,
      playbook: 'malware_triage',
      project_id: project,
    });
    expect(registered.status).toBe(201);
    const monitoring = `/api/organisations/default/projects/${project}/monitoring`;
    expect((await t.request('POST', `${monitoring}/pause`, { reason: 'maintenance window' })).body).toMatchObject({ paused: true });

    const paused = await triaged(t, await detect({ host: 'DC-02.plant.example' }, 'plant-edr'));
    expect(paused).toMatchObject({ alert_count: 1, verdict: null, triage_status: 'skipped', severity: 'high', assignee: null });
    expect(paused.triage_runs).toEqual([expect.objectContaining({ status: 'skipped', skipped_reason: 'monitoring_paused', steps: [] })]);
    expect((await incidentEvents(store, paused.id)).map((e) => e.type)).toEqual(['IncidentOpened', 'AlertAttached', 'TriageSkipped']);

    expect((await t.request('POST', `${monitoring}/resume`)).body).toMatchObject({ paused: false });
    const resumed = await triaged(t, await detect({ host: 'DC-03.plant.example' }, 'plant-edr'));
    expect(resumed).toMatchObject({ verdict: 'suspicious', severity: 'critical', triage_status: 'completed' });
  });

  it('refuses an unknown playbook (400 unknown_playbook) through the API and the CLI, and writes nothing', async () => {
    const refused = await t.request('POST', '/api/webhooks', { source: 'sandbox', secret: 'abcdefgh', auto_triage: true, playbook: 'ransomware_triage' });
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'unknown_playbook', message: expect.stringContaining('phishing_triage, malware_triage, default_triage') } } });
    expect((await t.request('GET', '/api/webhooks/sandbox')).status).toBe(404);
    // The name was not claimed by the refused registration.
    expect((await t.request('POST', '/api/webhooks', { source: 'sandbox', secret: 'abcdefgh', auto_triage: true })).status).toBe(201);
    expect((await t.request('PATCH', '/api/webhooks/sandbox', { playbook: 'nope' })).body.error.code).toBe('unknown_playbook');
    expect((await t.request('GET', '/api/webhooks/sandbox')).body.playbook).toBeNull();

    const cli = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(__dirname, '..', '..', 'dist', 'cli', 'tw-cli.js'), 'webhook', 'add', 'cli-src', '--auto-triage', 'true', '--playbook', 'nope'], {
        env: { ...process.env, TW_URL: t.url, TW_API_KEY: ADMIN_KEY },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain('unknown_playbook');
  });

  it('does not start with a configuration file naming an unknown playbook', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'sources:\n  edr2:\n    secret: abcdefgh\n    auto_triage: true\n    playbook: ransomware_triage\n');
    await expect(startTestApp({ env: { TW_CONFIG: bad } })).rejects.toThrow(/sources\.edr2\.playbook: unknown_playbook 'ransomware_triage'/);
  });

  it('exports triage runs as Prometheus metrics', async () => {
    const metrics = await fetch(`${t.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^triage_runs\{playbook="phishing_triage",status="completed"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^triage_runs\{playbook="malware_triage",status="skipped"\} 1$/m);
  });
});
