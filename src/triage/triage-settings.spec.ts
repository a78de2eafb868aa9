import { describe, expect, it } from 'vitest';
import { DEFAULT_PLAYBOOK_SETTINGS } from './playbook-settings';
import { PLAYBOOK_NAMES } from './playbooks';
import { BRAND_LIST, effectiveSettings, parseBody, protectedDomains, seededDocument, toBody, withEntry } from './triage-settings';

const seeded = seededDocument(DEFAULT_PLAYBOOK_SETTINGS);

describe('organisation triage settings', () => {
  it('round-trips: the body of a document parses back to the same document', () => {
    const document = parseBody(
      { protected_domains: ['Company.com.'], unprotected_domains: ['partner.example'], brand_domains: false, block: { domains: ['evil.example'] }, routing: [{ verdict: 'malicious', assignee: 'soc' }] },
      PLAYBOOK_NAMES,
    );
    expect(document).toMatchObject({ protectedDomains: ['company.com'], unprotectedDomains: ['partner.example'], brandDomains: false, learnOwnDomains: true });
    expect(parseBody(toBody(document), PLAYBOOK_NAMES)).toEqual(document);
  });

  it('refuses what the configuration file refuses, the instance-wide keys, and names every problem', () => {
    expect(() => parseBody({ thresholds: { malicious_score: 10, suspicious_score: 20 } }, PLAYBOOK_NAMES)).toThrow(/suspicious_score must be below/);
    expect(() => parseBody({ retry: { max_attempts: 1 }, testing: {} }, PLAYBOOK_NAMES)).toThrow(/retry: .*testing: /);
    expect(() => parseBody({ learn_own_domains: 'yes', unprotected_domains: ['no spaces'] }, PLAYBOOK_NAMES)).toThrow(/learn_own_domains.*unprotected_domains/);
    expect(() => parseBody({ routing: [{ playbook: 'nope', assignee: 'x' }] }, PLAYBOOK_NAMES)).toThrow(/unknown_playbook/);
    expect(() => parseBody([], PLAYBOOK_NAMES)).toThrow(/JSON object/);
    // Names of Object.prototype are keys like any other: unknown, hence refused.
    expect(() => parseBody(JSON.parse('{"__proto__": {"x": 1}, "toString": 1}'), PLAYBOOK_NAMES)).toThrow('__proto__: unknown key; toString: unknown key');
    expect(() => parseBody(JSON.parse('{"allow": {"constructor": ["x"]}, "thresholds": {"valueOf": 1}}'), PLAYBOOK_NAMES)).toThrow(
      'allow.constructor: unknown key; thresholds.valueOf: unknown key',
    );
  });

  it('adds an entry once, lower-cased, and removes it; a critical host carries its level', () => {
    const added = parseBody(withEntry(seeded, 'add', 'block.domains', 'Evil.Example'), PLAYBOOK_NAMES);
    expect(added.block.domains).toEqual(['evil.example']);
    expect(parseBody(withEntry(added, 'add', 'block.domains', 'evil.example'), PLAYBOOK_NAMES).block.domains).toEqual(['evil.example']);
    expect(parseBody(withEntry(added, 'remove', 'block.domains', 'EVIL.example'), PLAYBOOK_NAMES).block.domains).toEqual([]);
    const host = parseBody(withEntry(seeded, 'add', 'asset_criticality', 'DC-*', 'high'), PLAYBOOK_NAMES);
    expect(host.assetCriticality).toEqual([{ pattern: 'dc-*', criticality: 'high' }]);
    expect(parseBody(withEntry(host, 'add', 'asset_criticality', 'dc-*'), PLAYBOOK_NAMES).assetCriticality).toEqual([{ pattern: 'dc-*', criticality: 'critical' }]);
    expect(parseBody(withEntry(host, 'remove', 'asset_criticality', 'dc-*'), PLAYBOOK_NAMES).assetCriticality).toEqual([]);
  });

  it('protects the configured, then the learned, then the brand domains, each once, without the unprotected ones', () => {
    const document = { ...seeded, protectedDomains: ['company.com'], unprotectedDomains: ['google.com'] };
    const domains = protectedDomains(document, ['company.com', 'company.co.uk']);
    expect(domains.slice(0, 2)).toEqual([
      { domain: 'company.com', origin: 'configured' },
      { domain: 'company.co.uk', origin: 'learned' },
    ]);
    expect(domains.filter((d) => d.origin === 'brand').map((d) => d.domain)).toEqual(BRAND_LIST.domains.filter((d) => d !== 'google.com'));
    expect(protectedDomains({ ...document, learnOwnDomains: false, brandDomains: false }, ['company.co.uk'])).toEqual([{ domain: 'company.com', origin: 'configured' }]);
  });

  it('keeps retry and testing from the instance', () => {
    const instance = { ...DEFAULT_PLAYBOOK_SETTINGS, retry: { maxAttempts: 9, backoffSeconds: 1, stepTimeoutSeconds: 2 }, stepDelaysMs: { 'phishing_triage.extract': 5 } };
    const effective = effectiveSettings(instance, { ...seeded, thresholds: { ...seeded.thresholds, maliciousScore: 55 } }, []);
    expect(effective).toMatchObject({ retry: instance.retry, stepDelaysMs: instance.stepDelaysMs, thresholds: { maliciousScore: 55 } });
  });
});
