import { describe, expect, it } from 'vitest';
import { normalizeFallback } from './fallback.normalizer';
import type { NormalizeContext } from './types';

const ctx: NormalizeContext = { receivedAt: new Date('2024-06-01T12:00:00.000Z') };

describe('fallback normalizer', () => {
  it('makes a best-effort alert of an unknown object, reading common keys case-insensitively', () => {
    const payload = {
      Name: 'Impossible travel activity',
      Severity: 'High',
      CreatedAt: '2024-01-15T10:00:00+02:00',
      Category: 'Identity',
      UserName: 'jdoe@company.com',
      Details: 'Sign-in from 203.0.113.9 two hours after one from 198.51.100.4',
    };
    expect(normalizeFallback(payload, ctx)).toEqual({
      vendor: 'unknown',
      vendor_alert_id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      title: 'Impossible travel activity',
      severity: 'high',
      raw_severity: 'High',
      occurred_at: '2024-01-15T08:00:00.000Z',
      category: 'Identity',
      user: 'jdoe@company.com',
      indicators: {
        emails: ['jdoe@company.com'],
        urls: [],
        domains: ['company.com'],
        ips: ['203.0.113.9', '198.51.100.4'],
        hashes: [],
      },
      action: 'trigger',
      normalization: 'fallback',
    });
  });

  it('looks one level down into wrappers such as alert or event', () => {
    const alert = normalizeFallback({ alert: { summary: 'Port scan', level: 'critical', ts: 1705320000, hostname: 'fw-01' } }, ctx);
    expect(alert).toMatchObject({ title: 'Port scan', severity: 'critical', occurred_at: '2024-01-15T12:00:00.000Z', host: 'fw-01' });
  });

  it('uses the default severity and the receive time when nothing is recognisable', () => {
    const alert = normalizeFallback({ foo: 'bar' }, { ...ctx, defaultSeverity: 'low' });
    expect(alert).toMatchObject({ title: 'Unrecognised alert', severity: 'low', raw_severity: null, occurred_at: '2024-06-01T12:00:00.000Z', category: null });
  });

  it('derives the same id for the same content in any key order', () => {
    expect(normalizeFallback({ a: 1, b: { c: 2, d: 3 } }, ctx).vendor_alert_id).toBe(normalizeFallback({ b: { d: 3, c: 2 }, a: 1 }, ctx).vendor_alert_id);
  });

  it('still produces an alert for a JSON value that is not an object', () => {
    for (const value of [42, true, null, [1, 2]]) {
      expect(normalizeFallback(value, ctx)).toMatchObject({
        vendor: 'unknown',
        title: 'Unrecognised alert',
        severity: 'medium',
        occurred_at: '2024-06-01T12:00:00.000Z',
        normalization: 'fallback',
        action: 'trigger',
      });
    }
    expect(normalizeFallback('Malware found on 10.1.2.3', ctx)).toMatchObject({ title: 'Malware found on 10.1.2.3', indicators: { ips: ['10.1.2.3'] } });
  });

  it('caps a very long title', () => {
    const alert = normalizeFallback({ message: 'x'.repeat(1000) }, ctx);
    expect(alert.title).toHaveLength(256);
    expect(alert.title.endsWith('…')).toBe(true);
  });

  it('never copies or scans a credential', () => {
    const alert = normalizeFallback({ routing_key: 'e93facc04764012d7bfb002500d5d1a6', title: 'x' }, ctx);
    expect(JSON.stringify(alert)).not.toContain('e93facc04764012d7bfb002500d5d1a6');
  });
});
