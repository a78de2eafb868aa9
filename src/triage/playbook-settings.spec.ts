import { describe, expect, it } from 'vitest';
import { DEFAULT_PLAYBOOK_SETTINGS, parsePlaybookSettings } from './playbook-settings';
import { PLAYBOOK_NAMES } from './playbooks';

describe('the playbooks section', () => {
  it('gives the defaults when absent, and fills what a partial section leaves out', () => {
    expect(parsePlaybookSettings(undefined, PLAYBOOK_NAMES)).toEqual(DEFAULT_PLAYBOOK_SETTINGS);
    const settings = parsePlaybookSettings(
      {
        protected_domains: ['PayPal.com.'],
        block: { domains: ['Evil.Example'] },
        asset_criticality: [{ pattern: 'DC-*', criticality: 'critical' }],
        thresholds: { malicious_score: 80 },
        routing: [{ verdict: 'malicious', assignee: 'soc' }],
        retry: { max_attempts: 5 },
        testing: { step_delay_ms: { 'phishing_triage.campaign': 1000 } },
      },
      PLAYBOOK_NAMES,
    );
    expect(settings).toMatchObject({
      protectedDomains: ['paypal.com'],
      block: { domains: ['evil.example'], urls: [], ips: [], hashes: [], emails: [] },
      assetCriticality: [{ pattern: 'dc-*', criticality: 'critical' }],
      thresholds: { maliciousScore: 80, suspiciousScore: 30 },
      routing: [{ verdict: ['malicious'], assignee: 'soc' }],
      retry: { maxAttempts: 5, backoffSeconds: 5, stepTimeoutSeconds: 30 },
      stepDelaysMs: { 'phishing_triage.campaign': 1000 },
    });
  });

  it('refuses unknown keys, bad values and unknown playbooks, naming each place', () => {
    const refuse = (section: unknown) => () => parsePlaybookSettings(section, PLAYBOOK_NAMES);
    expect(refuse({ protected_domain: ['x.com'] })).toThrow(/property protected_domain should not exist/);
    expect(refuse({ protected_domains: ['not a domain'] })).toThrow(/protected_domains must be domain names/);
    expect(refuse({ asset_criticality: [{ pattern: 'dc-*', criticality: 'extreme' }] })).toThrow(/asset_criticality\.0\.criticality/);
    expect(refuse({ routing: [{ verdict: 'evil', assignee: 'x' }] })).toThrow(/routing\.0\.verdict/);
    expect(refuse({ routing: [{ playbook: 'nope', assignee: 'x' }] })).toThrow(/routing\[0\]\.playbook: unknown_playbook 'nope'/);
    expect(refuse({ testing: { step_delay_ms: { 'nope.step': 1 } } })).toThrow(/'nope\.step' is not <playbook>\.<step>/);
    expect(refuse({ thresholds: { malicious_score: 20, suspicious_score: 30 } })).toThrow(/suspicious_score must be below malicious_score/);
    expect(refuse(['a list'])).toThrow(/must be a mapping/);
  });
});
