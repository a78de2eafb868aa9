import { describe, expect, it } from 'vitest';
import { parseConfigDocument } from '../src/config/config-file';
import { parseSourcesSection } from '../src/inbound/config/sources-config';
import { parsePlaybooksSection } from '../src/triage/playbook-configuration';
import { DEFAULT_PLAYBOOK_SETTINGS } from '../src/triage/playbook-settings';
import { SEED_CONFIG as SEED } from './fixtures/seed-config';

/** The whole file as the application reads it: the shared reader, then each capability's section. */
function parseWebhookConfig(text: string, env: NodeJS.ProcessEnv, file?: string) {
  const document = parseConfigDocument(text, env, file);
  return { sources: parseSourcesSection(document), playbooks: parsePlaybooksSection(document), warnings: document.warnings };
}

const env = { EMAIL_GATEWAY_SECRET: 'gateway-secret-1', EDR_SECRET: 'edr-secret-0001' };

describe('the configuration file (TW_CONFIG)', () => {
  it("reads the seed's example, with its variables from the environment", () => {
    expect(parseWebhookConfig(SEED, env)).toEqual({
      sources: [
        {
          name: 'email-gateway',
          secret: 'gateway-secret-1',
          settings: {
            auto_triage: true,
            playbook: 'phishing_triage',
            severity_mapping: { critical: 'critical', high: 'high', medium: 'medium', low: 'low' },
          },
        },
        { name: 'edr', secret: 'edr-secret-0001', settings: { auto_triage: true, playbook: 'malware_triage' } },
      ],
      playbooks: DEFAULT_PLAYBOOK_SETTINGS,
      warnings: [],
    });
  });

  it('stops with the name of a variable that is unset or empty', () => {
    expect(() => parseWebhookConfig(SEED, { EMAIL_GATEWAY_SECRET: 'gateway-secret-1' })).toThrow(
      /sources\.edr\.secret: environment variable EDR_SECRET is not set/,
    );
    expect(() => parseWebhookConfig(SEED, { ...env, EDR_SECRET: '' })).toThrow(/EDR_SECRET/);
  });

  it('substitutes inside longer strings, takes values literally, and keeps $${ as a literal', () => {
    const text = 'sources:\n  a:\n    secret: "pre-${X}-$${NOT}-post"\n';
    expect(parseWebhookConfig(text, { X: 'has "quotes" #and: colons' }).sources[0].secret).toBe(
      'pre-has "quotes" #and: colons-${NOT}-post',
    );
  });

  it('warns about top-level sections it does not know, and still reads the sources', () => {
    const config = parseWebhookConfig('dashboards:\n  main: {}\nsources:\n  a:\n    secret: abcdefgh\n', {}, 'tw.yaml');
    expect(config.warnings).toEqual(["tw.yaml: unknown top-level key 'dashboards' ignored"]);
    expect(config.sources.map((s) => s.name)).toEqual(['a']);
  });

  it('refuses unknown keys and bad values inside a source, naming the source, never echoing the secret', () => {
    const misspelt = 'sources:\n  edr:\n    secret: abcdefgh\n    auto_triag: true\n';
    expect(() => parseWebhookConfig(misspelt, {}, 'tw.yaml')).toThrow(/tw\.yaml: sources\.edr: property auto_triag should not exist/);
    expect(() => parseWebhookConfig('sources:\n  edr:\n    secret: short\n', {})).toThrow(/sources\.edr: secret must be longer/);
    expect(() => parseWebhookConfig('sources:\n  edr:\n    secret: short\n', {})).not.toThrow(/short/);
    expect(() => parseWebhookConfig('sources:\n  edr:\n    auto_triage: true\n', {})).toThrow(/sources\.edr: secret/);
    expect(() => parseWebhookConfig('sources:\n  edr:\n    secret: abcdefgh\n    mode: later\n', {})).toThrow(/mode must be one of/);
    expect(() => parseWebhookConfig('sources:\n  edr:\n    secret: abcdefgh\n    severity_mapping: {"4": urgent}\n', {})).toThrow(
      /severity_mapping must map/,
    );
    expect(() => parseWebhookConfig('sources:\n  Bad Name:\n    secret: abcdefgh\n', {})).toThrow(/sources\.Bad Name: a source name/);
    expect(() => parseWebhookConfig('sources:\n  a: just-a-string\n', {})).toThrow(/sources\.a: must be a mapping/);
  });

  it('refuses YAML that is malformed, has duplicate keys or is not a mapping', () => {
    expect(() => parseWebhookConfig('sources: [', {})).toThrow(/not valid YAML/);
    expect(() => parseWebhookConfig('sources:\n  a:\n    secret: abcdefgh\n  a:\n    secret: abcdefgh\n', {})).toThrow(/not valid YAML/);
    expect(() => parseWebhookConfig('- a\n- b\n', {})).toThrow(/top level must be a mapping/);
    expect(() => parseWebhookConfig('sources: 5\n', {})).toThrow(/sources: must be a mapping/);
  });

  it('reads an empty file, or an empty sources section, as no sources', () => {
    expect(parseWebhookConfig('', {}).sources).toEqual([]);
    expect(parseWebhookConfig('sources:\n', {}).sources).toEqual([]);
  });

  it('refuses a source naming a playbook this build does not have (unknown_playbook)', () => {
    expect(() => parseWebhookConfig('sources:\n  edr:\n    secret: abcdefgh\n    playbook: ransomware_triage\n', {}, 'tw.yaml')).toThrow(
      /tw\.yaml: sources\.edr\.playbook: unknown_playbook 'ransomware_triage'/,
    );
  });

  it('reads the playbooks section, with its variables, and refuses its mistakes naming the place', () => {
    const text = 'playbooks:\n  protected_domains: ["${BRAND}"]\n  routing:\n    - verdict: malicious\n      assignee: soc\n';
    expect(parseWebhookConfig(text, { BRAND: 'paypal.com' }).playbooks).toMatchObject({
      protectedDomains: ['paypal.com'],
      routing: [{ verdict: ['malicious'], assignee: 'soc' }],
    });
    expect(() => parseWebhookConfig('playbooks:\n  thresholds:\n    malicious_scor: 50\n', {}, 'tw.yaml')).toThrow(
      /tw\.yaml: playbooks: thresholds\.malicious_scor: property malicious_scor should not exist/,
    );
  });

  it('refuses Object.prototype names as keys anywhere in a source or the playbooks section, and as mapped severities', () => {
    const before = Object.getOwnPropertyNames(Object.prototype);
    for (const name of before) {
      const key = JSON.stringify(name);
      const mapped = `sources:\n  edr:\n    secret: abcdefgh\n    severity_mapping: { ${key}: high, "4": critical }\n`;
      expect(() => parseWebhookConfig(mapped, {}, 'tw.yaml'), name).toThrow(`tw.yaml: sources.edr.severity_mapping.${name}: '${name}' is not accepted as a key`);
      expect(() => parseWebhookConfig(`sources:\n  edr:\n    secret: abcdefgh\n    ${key}: true\n`, {}), name).toThrow(`sources.edr.${name}:`);
      expect(() => parseWebhookConfig(`playbooks:\n  testing:\n    step_delay_ms: { ${key}: 5 }\n`, {}), name).toThrow(`playbooks.testing.step_delay_ms.${name}:`);
      expect(() => parseWebhookConfig(`sources:\n  edr:\n    secret: abcdefgh\n    severity_mapping: { high: ${key} }\n`, {}), name).toThrow(/severity_mapping must map/);
    }
    // A source may still be called like one: source names are not looked up in objects.
    expect(parseWebhookConfig('sources:\n  constructor:\n    secret: abcdefgh\n', {}).sources.map((s) => s.name)).toEqual(['constructor']);
    expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(before);
  });
});
