import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertmanagerNormalizer } from './alertmanager.normalizer';
import { grafanaNormalizer } from './grafana.normalizer';
import type { JsonRecord, NormalizeContext } from './types';

const ctx: NormalizeContext = { receivedAt: new Date('2024-06-01T12:00:00.000Z') };
const fixture = (name: string): JsonRecord => JSON.parse(readFileSync(join(__dirname, '../../../test/fixtures/vendors', `${name}.json`), 'utf8'));
const normalize = (payload: JsonRecord) => grafanaNormalizer.normalize(payload, ctx);

describe('Grafana webhook contact point normalizer', () => {
  it('maps a firing alert: summary, severity label, start, instance host; links into Grafana are no evidence', () => {
    expect(normalize(fixture('grafana-firing'))).toEqual([
      {
        vendor: 'grafana',
        vendor_alert_id: 'c6eadffa33fcdf37',
        title: 'SSH login failures on bastion-02 from 203.0.113.66',
        severity: 'critical',
        raw_severity: 'critical',
        occurred_at: '2024-01-15T08:00:03.157Z',
        category: 'Security',
        host: 'bastion-02',
        indicators: { emails: [], urls: [], domains: [], ips: ['203.0.113.66'], hashes: [] },
        action: 'trigger',
        normalization: 'vendor',
      },
    ]);
  });

  it('resolves with the same fingerprint, at the time the alert ended', () => {
    expect(normalize(fixture('grafana-resolved'))[0]).toMatchObject({ vendor_alert_id: 'c6eadffa33fcdf37', action: 'resolve', occurred_at: '2024-01-15T08:20:03.157Z' });
  });

  it("is the only one of the two to take Grafana's payload, and leaves Alertmanager's to Alertmanager", () => {
    expect(grafanaNormalizer.matches(fixture('grafana-firing'))).toBe(true);
    expect(alertmanagerNormalizer.matches(fixture('grafana-firing'))).toBe(false);
    expect(grafanaNormalizer.matches(fixture('alertmanager-firing'))).toBe(false);
    // Per-alert values or links alone are Grafana's too (orgId is missing from older versions' bodies).
    const { orgId: _orgId, ...older } = fixture('grafana-firing');
    expect(grafanaNormalizer.matches(older)).toBe(true);
    expect(alertmanagerNormalizer.matches(older)).toBe(false);
  });
});
