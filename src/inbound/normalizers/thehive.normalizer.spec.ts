import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { genericNormalizer } from './generic.normalizer';
import { thehiveNormalizer } from './thehive.normalizer';
import type { JsonRecord, NormalizeContext } from './types';

const ctx: NormalizeContext = { receivedAt: new Date('2024-06-01T12:00:00.000Z') };
const fixture = (): JsonRecord => JSON.parse(readFileSync(join(__dirname, '../../../test/fixtures/vendors/thehive-alert.json'), 'utf8'));
const normalize = (payload: JsonRecord) => thehiveNormalizer.normalize(payload, ctx);

describe('TheHive-style alert normalizer', () => {
  it('maps type/source/sourceRef as the key, the 1–4 severity, the date, and typed observables', () => {
    expect(normalize(fixture())).toEqual([
      {
        vendor: 'thehive',
        vendor_alert_id: 'phishing:mail-filter:MSG-2024-000871',
        title: 'Reported phishing: Invoice overdue',
        severity: 'high',
        raw_severity: '3',
        occurred_at: '2024-01-15T12:00:00.000Z',
        category: 'phishing',
        host: 'mx-in-02',
        indicators: {
          emails: ['billing@paypa1.com'],
          urls: ['http://paypa1.com.account-verify.example/login'],
          domains: ['paypa1.com', 'paypa1.com.account-verify.example'],
          ips: ['192.0.2.44', '198.51.100.200'],
          hashes: ['275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f'],
        },
        action: 'trigger',
        normalization: 'vendor',
      },
    ]);
  });

  it('reads severities 1 to 4 and words, and TheHive 3 artifacts like observables', () => {
    const levels = [1, 2, 3, 4, 'critical', 9].map((severity) => normalize({ ...fixture(), severity })[0]?.severity);
    expect(levels).toEqual(['low', 'medium', 'high', 'critical', 'critical', 'medium']);
    const { observables, ...rest } = fixture() as JsonRecord & { observables: unknown };
    expect(normalize({ ...rest, artifacts: observables })[0]?.host).toBe('mx-in-02');
  });

  it('takes a TheHive alert that also has generic fields, which generic then leaves alone', () => {
    const hybrid = { ...fixture(), event_type: 'security_alert', data: { alert_id: 'x' } };
    expect(thehiveNormalizer.matches(hybrid)).toBe(true);
    expect(genericNormalizer.matches(hybrid)).toBe(false);
    expect(thehiveNormalizer.matches({ type: 'x', source: 'y' })).toBe(false);
  });
});
