import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../event-store/event-store.port';
import type { NormalizedAlert, Severity } from '../../contracts/alert';
import { parsePlaybookSettings, type PlaybookSettings } from '../playbook-settings';
import { PLAYBOOK_NAMES, PLAYBOOKS } from '../playbooks';
import type { StepResult, TriageInput } from '../playbooks/playbook';
import { mapSeverity, route } from '../runner/triage-runner';
import { severityFor, tally, verdictOf } from './scoring';

const SETTINGS = parsePlaybookSettings(
  {
    protected_domains: ['paypal.com'],
    allow: { domains: ['company.com'], hashes: ['d41d8cd98f00b204e9800998ecf8427e'] },
    block: { domains: ['evil.example'], hashes: ['44d88612fea8a8f36de82e1278abb02f'], ips: ['203.0.113.0/24'] },
    asset_criticality: [
      { pattern: 'dc-*', criticality: 'critical' },
      { pattern: 'srv-*', criticality: 'high' },
    ],
    thresholds: { campaign_size: 3, repeat_detections: 3 },
  },
  PLAYBOOK_NAMES,
);

const alert = (overrides: Partial<NormalizedAlert> = {}): NormalizedAlert => ({
  vendor: 'defender_o365',
  vendor_alert_id: 'a-1',
  title: 'PhishingEmail: Urgent Action Required',
  severity: 'high',
  raw_severity: 'high',
  occurred_at: '2026-03-01T10:00:00.000Z',
  category: 'Phish',
  indicators: { emails: [], urls: [], domains: [], ips: [], hashes: [] },
  action: 'trigger',
  normalization: 'vendor',
  ...overrides,
});

function input(playbook: string, alerts: { alert: NormalizedAlert; raw?: JsonObject }[], settings: PlaybookSettings = SETTINGS): TriageInput {
  const severity = alerts[0].alert.severity;
  return {
    incident: {
      id: 'i-1',
      number: 'INC-2026-0001',
      organisationId: 'o-1',
      projectId: null,
      source: 'email-gateway',
      playbook,
      title: alerts[0].alert.title,
      category: alerts[0].alert.category,
      severity,
      vendorSeverity: severity,
      status: 'open',
      openedAt: '2026-03-01T10:00:00.000Z',
      alertCount: alerts.length,
    },
    alerts: alerts.map((a, i) => ({ id: `r-${i}:0`, receivedAt: '2026-03-01T10:00:00.000Z', alert: a.alert, raw: a.raw ?? null })),
    group: { count: 1, members: [] },
    settings,
  };
}

/**
 * Runs a playbook's steps for real; the steps that look at other incidents are given what they found as
 * plain results (`found`), the way they would have recorded them.
 */
async function judge(playbook: string, triage: TriageInput, found: Record<string, StepResult> = {}) {
  const results = new Map<string, StepResult>();
  const none = { earlier: async () => [], incident: async () => null };
  for (const step of PLAYBOOKS.get(playbook)!.steps) {
    results.set(step.key, found[step.key] ?? (await step.run(triage, { results, sightings: none, signal: new AbortController().signal })));
  }
  return { results, conclusion: PLAYBOOKS.get(playbook)!.conclude(triage, results) };
}

const email = (sender: string, extra: JsonObject = {}, severity: Severity = 'high') => ({
  alert: alert({ severity }),
  raw: { eventType: 'PhishingEmail', data: { sender, subject: 'Urgent Action Required', recipients: ['user@company.com'], ...extra } },
});

describe('scoring', () => {
  it('adds contributions with their reasons and clamps to 0–100', () => {
    expect(tally([{ points: 30, reason: 'a' }, false, null, { points: 90, reason: 'b' }])).toEqual({ score: 100, reasons: ['a (+30)', 'b (+90)'] });
    expect(tally([{ points: 10, reason: 'a' }, { points: -40, reason: 'b' }])).toEqual({ score: 0, reasons: ['a (+10)', 'b (-40)'] });
  });

  it('calls benign only with positive evidence, never for lack of it', () => {
    const thresholds = SETTINGS.thresholds;
    expect(verdictOf(75, false, thresholds)).toBe('malicious');
    expect(verdictOf(70, true, thresholds)).toBe('malicious');
    expect(verdictOf(69, false, thresholds)).toBe('suspicious');
    expect(verdictOf(0, false, thresholds)).toBe('suspicious');
    expect(verdictOf(29, true, thresholds)).toBe('benign');
    expect(verdictOf(30, true, thresholds)).toBe('suspicious');
  });

  it('sets severity from the verdict, never below the vendor unless benign', () => {
    expect(severityFor('malicious', 80, 'low', false)).toBe('high');
    expect(severityFor('malicious', 95, 'low', false)).toBe('critical');
    expect(severityFor('suspicious', 40, 'low', false)).toBe('medium');
    expect(severityFor('suspicious', 40, 'high', false)).toBe('high');
    expect(severityFor('benign', 0, 'high', false)).toBe('low');
    expect(severityFor('benign', 0, 'info', false)).toBe('info');
    expect(severityFor('suspicious', 50, 'medium', true)).toBe('critical');
  });

  it("maps triage's severity through the source's severity_mapping: verdict first, then the severity", () => {
    expect(mapSeverity('malicious', 'high', {})).toBe('high');
    expect(mapSeverity('malicious', 'high', { High: 'critical' })).toBe('critical');
    expect(mapSeverity('malicious', 'high', { malicious: 'critical', high: 'medium' })).toBe('critical');
  });

  it('routes to the first matching rule', () => {
    const rules = parsePlaybookSettings(
      { routing: [{ verdict: 'malicious', playbook: 'phishing_triage', assignee: 'phishing-team' }, { escalated: true, assignee: 'ir-oncall' }, { verdict: ['malicious'], assignee: 'soc' }] },
      PLAYBOOK_NAMES,
    ).routing;
    const facts = { verdict: 'malicious' as const, severity: 'high' as const, playbook: 'phishing_triage', source: 'x', escalated: false };
    expect(route(rules, facts)).toBe('phishing-team');
    expect(route(rules, { ...facts, playbook: 'malware_triage', escalated: true })).toBe('ir-oncall');
    expect(route(rules, { ...facts, playbook: 'malware_triage' })).toBe('soc');
    expect(route(rules, { ...facts, verdict: 'suspicious' })).toBeNull();
  });
});

describe('phishing_triage', () => {
  it('finds the sender, reply-to, subject and recipients in the Defender shape', async () => {
    const { results } = await judge('phishing_triage', input('phishing_triage', [email('Billing <billing@paypa1.com>', { replyTo: 'x@evil.example', urls: ['https://paypa1.com/login'] })]));
    expect(results.get('extract')!.evidence).toMatchObject({
      sender: 'billing@paypa1.com',
      sender_domain: 'paypa1.com',
      reply_to: 'x@evil.example',
      subject: 'Urgent Action Required',
      recipients: ['user@company.com'],
      urls: ['https://paypa1.com/login'],
      correlation_keys: ['sender:billing@paypa1.com', 'subject:urgent action required'],
    });
    expect(results.get('extract')!.evidence.domains).not.toContain('company.com');
  });

  it('calls a look-alike sender of a protected domain malicious', async () => {
    const { conclusion } = await judge('phishing_triage', input('phishing_triage', [email('billing@paypa1.com')]));
    expect(conclusion).toMatchObject({ verdict: 'malicious', score: 90, severity: 'critical', groupInto: null });
    expect(conclusion.reasons).toEqual(['vendor severity high (+30)', 'paypa1.com looks like protected paypal.com (homoglyph) (+60)']);
  });

  it('leaves a vendor-flagged email without evidence either way suspicious', async () => {
    const { conclusion } = await judge('phishing_triage', input('phishing_triage', [email('phisher@malicious.com')]));
    expect(conclusion).toMatchObject({ verdict: 'suspicious', score: 30, severity: 'high' });
  });

  it('calls an allow-listed sender benign, unless something else speaks against it', async () => {
    const benign = await judge('phishing_triage', input('phishing_triage', [email('newsletter@company.com', {}, 'low')]));
    expect(benign.conclusion).toMatchObject({ verdict: 'benign', score: 0, severity: 'low' });
    const blockedLink = await judge('phishing_triage', input('phishing_triage', [email('newsletter@company.com', { urls: ['https://evil.example/x'] }, 'low')]));
    expect(blockedLink.conclusion).toMatchObject({ verdict: 'malicious' });
  });

  it('adds a reply-to on another domain, and a campaign of enough emails', async () => {
    const campaign: StepResult = { outcome: 'campaign', evidence: { size: 3, window_minutes: 60, group_into: null } };
    const { conclusion } = await judge('phishing_triage', input('phishing_triage', [email('a@malicious.com', { replyTo: 'b@other.example' }, 'medium')]), { campaign });
    expect(conclusion).toMatchObject({ verdict: 'suspicious', score: 55 });
    expect(conclusion.reasons).toContain('reply-to other.example differs from sender malicious.com (+15)');
    expect(conclusion.reasons).toContain('campaign of 3 emails within 60 min (+20)');
  });

  it('is judged by its worst campaign member', async () => {
    const triage = input('phishing_triage', [email('a@malicious.com')]);
    triage.group = { count: 2, members: [{ incidentId: 'i-2', number: 'INC-2026-0002', verdict: 'malicious', score: 90 }] };
    expect((await judge('phishing_triage', triage)).conclusion).toMatchObject({ verdict: 'malicious', score: 90 });
  });
});

describe('malware_triage', () => {
  const detection = (host: string, hashes: string[] = [], severity: Severity = 'high') =>
    alert({ vendor: 'crowdstrike', title: 'Malicious File Detected', category: null, host, severity, indicators: { emails: [], urls: [], domains: [], ips: [], hashes } });
  const history = (detections: number): StepResult => ({ outcome: `${detections}_detections`, evidence: { detections, window_minutes: 60, threshold: 3, repeated: detections >= 3 } });

  it('escalates a detection on a critical host to critical', async () => {
    const { conclusion } = await judge('malware_triage', input('malware_triage', [{ alert: detection('DC-01.corp.example') }]));
    expect(conclusion).toMatchObject({ verdict: 'suspicious', score: 50, escalated: true, severity: 'critical' });
    expect(conclusion.reasons).toEqual(['vendor severity high (+30)', 'critical host DC-01.corp.example (dc-*) (+20)', 'escalated: critical host']);
  });

  it('escalates repeated detections on one host', async () => {
    const { conclusion } = await judge('malware_triage', input('malware_triage', [{ alert: detection('ws-07') }]), { host_history: history(3) });
    expect(conclusion).toMatchObject({ verdict: 'suspicious', score: 60, escalated: true, severity: 'critical' });
    const once = await judge('malware_triage', input('malware_triage', [{ alert: detection('ws-07') }]), { host_history: history(1) });
    expect(once.conclusion).toMatchObject({ escalated: false, severity: 'high' });
  });

  it('calls a blocked hash malicious and an allow-listed one benign', async () => {
    const blocked = await judge('malware_triage', input('malware_triage', [{ alert: detection('srv-9', ['44d88612fea8a8f36de82e1278abb02f']) }]));
    expect(blocked.conclusion).toMatchObject({ verdict: 'malicious', score: 100 });
    const allowed = await judge('malware_triage', input('malware_triage', [{ alert: detection('ws-1', ['d41d8cd98f00b204e9800998ecf8427e'], 'low') }]));
    expect(allowed.conclusion).toMatchObject({ verdict: 'benign', escalated: false, severity: 'low' });
  });
});

describe('default_triage', () => {
  it('enriches from the lists: a blocked address is malicious', async () => {
    const blocked = alert({ vendor: 'splunk', title: 'Outbound beacon', severity: 'medium', indicators: { emails: [], urls: [], domains: [], ips: ['203.0.113.7'], hashes: [] } });
    const { conclusion, results } = await judge('default_triage', input('default_triage', [{ alert: blocked }]));
    expect(results.get('enrich')!.outcome).toBe('blocked');
    expect(conclusion).toMatchObject({ verdict: 'malicious', score: 80, severity: 'high' });
  });
});
