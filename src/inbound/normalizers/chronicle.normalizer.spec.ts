import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chronicleNormalizer } from './chronicle.normalizer';
import type { JsonRecord, NormalizeContext } from './types';

const ctx: NormalizeContext = { receivedAt: new Date('2024-06-01T12:00:00.000Z') };
const fixture = (): JsonRecord & { detection: JsonRecord[] } =>
  JSON.parse(readFileSync(join(__dirname, '../../../test/fixtures/vendors/chronicle-detection.json'), 'utf8'));
const normalize = (payload: JsonRecord) => chronicleNormalizer.normalize(payload, ctx);

describe('Google SecOps (Chronicle) normalizer', () => {
  it('maps a rule detection: rule name, label severity, event time, principal host and user, evidence', () => {
    const [alert] = normalize(fixture());
    expect(alert).toMatchObject({
      vendor: 'chronicle',
      vendor_alert_id: expect.stringMatching(/^chronicle:ru_0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e:[0-9a-f]{64}$/),
      title: 'dns_query_to_newly_seen_domain',
      severity: 'medium',
      raw_severity: 'Medium',
      occurred_at: '2024-01-15T09:58:06.804Z',
      category: 'Command and Control',
      host: 'ray-xxx-laptop',
      user: 'ray',
      action: 'trigger',
    });
    expect(alert?.indicators.domains).toContain('update-check.paypa1-secure.example');
    expect(alert?.indicators.ips).toEqual(['10.1.2.3', '198.51.100.53', '203.0.113.9']);
  });

  it('keys repeats by rule and match variables: a new detection id of the same match is the same incident', () => {
    const again = fixture();
    again.id = 'de_another';
    again.detection[0]!.ruleVersion = 'ru_0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e@v_1705400000_1';
    expect(normalize(again)[0]?.vendor_alert_id).toBe(normalize(fixture())[0]?.vendor_alert_id);
    const otherHost = fixture();
    otherHost.detection[0]!.detectionFields = [{ key: 'hostname', value: 'other-laptop' }];
    expect(normalize(otherHost)[0]?.vendor_alert_id).not.toBe(normalize(fixture())[0]?.vendor_alert_id);
    // No match variables: the detection is its own incident.
    const single = fixture();
    delete single.detection[0]!.detectionFields;
    expect(normalize(single)[0]?.vendor_alert_id).toBe('de_6a1f2e3d-4c5b-6a79-8b0c-1d2e3f4a5b6c');
  });

  it('takes the severity outcome over the label, else the risk score in bands of twenty', () => {
    const variant = (detection: JsonRecord) => normalize({ ...fixture(), detection: [{ ruleName: 'R', ...detection }] })[0]?.severity;
    expect(variant({ outcomes: [{ key: 'severity', value: 'CRITICAL' }], ruleLabels: [{ key: 'severity', value: 'Low' }] })).toBe('critical');
    expect(variant({ riskScore: 85 })).toBe('critical');
    expect(variant({ outcomes: [{ key: 'risk_score', value: '35' }] })).toBe('low');
    expect(variant({})).toBe('medium');
  });

  it('makes one alert per detection of a list', () => {
    const list = { detections: [fixture(), { ...fixture(), id: 'de_2', detection: [{ ruleName: 'second' }] }], nextPageToken: 't' };
    expect(normalize(list).map((a) => a.title)).toEqual(['dns_query_to_newly_seen_domain', 'second']);
  });
});
