import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { elasticNormalizer } from './elastic.normalizer';
import type { JsonRecord, NormalizeContext } from './types';

const ctx: NormalizeContext = { receivedAt: new Date('2024-06-01T12:00:00.000Z') };
const fixture = (): JsonRecord => JSON.parse(readFileSync(join(__dirname, '../../../test/fixtures/vendors/elastic-detection.json'), 'utf8'));
const normalize = (payload: JsonRecord) => elasticNormalizer.normalize(payload, ctx);

describe('Elastic Security normalizer', () => {
  it("maps a detection rule's alert: rule name, severity, original time, host, user and ECS evidence", () => {
    expect(normalize(fixture())).toEqual([
      {
        vendor: 'elastic',
        vendor_alert_id: 'elastic:2c7a1f40-8b3e-11ee-9a8f-0b7d9c1e2f3a:ws-0412',
        title: 'Suspicious PowerShell Encoded Command',
        severity: 'high',
        raw_severity: 'high',
        occurred_at: '2024-01-15T10:05:42.000Z',
        category: 'Execution',
        host: 'WS-0412',
        user: 'jdoe',
        // The 64-hex alert uuid and the 32-hex host and event ids are Elastic's bookkeeping, not hashes.
        indicators: {
          emails: [],
          urls: [],
          domains: [],
          ips: ['10.20.30.41', '203.0.113.77'],
          hashes: ['de96a6e69944335375dc1ac238336066889d9ffc7d73628ef4fe1b1b160ab32c'],
        },
        action: 'trigger',
        normalization: 'vendor',
      },
    ]);
  });

  it('reads dotted keys, nested objects and any mix of the two alike', () => {
    const nested = {
      alerts: [
        {
          kibana: { alert: { rule: { name: 'R', uuid: 'rule-1' }, severity: 'critical', original_time: '2024-01-15T10:00:00Z' } },
          host: { name: 'H1' },
          user: { name: 'u1' },
        },
      ],
    };
    const mixed = { alerts: [{ 'kibana.alert': { 'rule.name': 'R', rule: { uuid: 'rule-1' }, severity: 'critical' }, 'kibana.alert.original_time': '2024-01-15T10:00:00Z', 'host.name': 'H1', user: { name: 'u1' } }] };
    const expected = { title: 'R', severity: 'critical', vendor_alert_id: 'elastic:rule-1:h1', host: 'H1', user: 'u1', occurred_at: '2024-01-15T10:00:00.000Z' };
    expect(normalize(nested)[0]).toMatchObject(expected);
    expect(normalize(mixed)[0]).toMatchObject(expected);
  });

  it('keys repeats by rule and host: a new alert uuid on the same host is the same incident', () => {
    const again = fixture() as { alerts: JsonRecord[] };
    again.alerts[0]!['kibana.alert.uuid'] = 'f'.repeat(64);
    expect(normalize(again as unknown as JsonRecord)[0]?.vendor_alert_id).toBe(normalize(fixture())[0]?.vendor_alert_id);
    // Without a host, each alert document stands alone.
    expect(normalize({ alerts: [{ 'kibana.alert.uuid': 'abc', 'kibana.alert.rule.name': 'R' }] })[0]?.vendor_alert_id).toBe('abc');
  });

  it("uses the rule's severity words, else its risk score in Elastic's bands, and takes the whole context too", () => {
    const risk = (score: number) => normalize({ context: { rule: { name: 'R', risk_score: score }, alerts: [{ 'kibana.alert.rule.name': 'R' }] } })[0]?.severity;
    expect([risk(21), risk(22), risk(47), risk(48), risk(73), risk(74), risk(100)]).toEqual(['low', 'medium', 'medium', 'high', 'high', 'critical', 'critical']);
    expect(normalize({ 'kibana.alert.rule.name': 'Single', 'kibana.alert.severity': 'low' })).toMatchObject([{ title: 'Single', severity: 'low' }]);
  });
});
