import { describe, expect, it } from 'vitest';
import { genericNormalizer } from './generic.normalizer';
import type { JsonRecord, NormalizeContext } from './types';

const ctx: NormalizeContext = { receivedAt: new Date('2024-06-01T12:00:00.000Z') };
const normalize = (payload: JsonRecord, context: NormalizeContext = ctx) => genericNormalizer.normalize(payload, context);

describe('generic normalizer', () => {
  it("normalizes the contract's example", () => {
    const seed = {
      event_type: 'security_alert',
      timestamp: '2024-01-15T10:00:00Z',
      source: 'email-gateway',
      data: { alert_id: 'alert-123', severity: 'high', details: { sender: 'phisher@malicious.com', link: 'https://malicious.com/login' } },
    };
    expect(normalize(seed)).toEqual([
      {
        vendor: 'generic',
        vendor_alert_id: 'alert-123',
        title: 'security_alert',
        severity: 'high',
        raw_severity: 'high',
        occurred_at: '2024-01-15T10:00:00.000Z',
        category: null,
        indicators: {
          emails: ['phisher@malicious.com'],
          urls: ['https://malicious.com/login'],
          domains: ['malicious.com'],
          ips: [],
          hashes: [],
        },
        action: 'trigger',
        normalization: 'vendor',
      },
    ]);
  });

  it('takes title, category, host and user from data, or from data.details', () => {
    const [alert] = normalize({
      event_type: 'security_alert',
      timestamp: 1705320000,
      source: 'edr',
      data: {
        alert_id: '5f1e8acedc065031aad553b710838eb366cfee9a',
        severity: 'critical',
        title: 'Ransomware behaviour blocked',
        category: 'Malware',
        details: {
          host: 'WS-0042',
          user: 'CORP\\jdoe',
          file_sha256: '275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F',
          c2: '203.0.113.10',
        },
      },
    });
    expect(alert).toMatchObject({
      vendor_alert_id: '5f1e8acedc065031aad553b710838eb366cfee9a',
      title: 'Ransomware behaviour blocked',
      severity: 'critical',
      occurred_at: '2024-01-15T12:00:00.000Z',
      category: 'Malware',
      host: 'WS-0042',
      user: 'CORP\\jdoe',
    });
    // The alert id is hex of SHA-1 length, but it is the alert's id, not evidence.
    expect(alert?.indicators.hashes).toEqual(['275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f']);
    expect(alert?.indicators.ips).toEqual(['203.0.113.10']);
  });

  it('derives a deterministic id when data has no alert_id, whatever the key order', () => {
    const a = normalize({ event_type: 'test', data: { severity: 'low', details: { x: 1, y: 2 } } });
    const b = normalize({ data: { details: { y: 2, x: 1 }, severity: 'low' }, event_type: 'test' });
    expect(a[0]?.vendor_alert_id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(a[0]?.vendor_alert_id).toBe(b[0]?.vendor_alert_id);
  });

  it('uses the receive time and the default severity for a bare test event', () => {
    const [alert] = normalize({ event_type: 'test', data: {} }, { ...ctx, defaultSeverity: 'info' });
    expect(alert).toMatchObject({ title: 'test', severity: 'info', raw_severity: null, occurred_at: '2024-06-01T12:00:00.000Z' });
    expect(alert).not.toHaveProperty('host');
    expect(alert).not.toHaveProperty('user');
  });

  it('reads numeric severities on the 1–5 scale, else 0–100', () => {
    const severityOf = (severity: unknown) => normalize({ event_type: 'x', data: { severity } })[0]?.severity;
    expect([severityOf(4), severityOf('2'), severityOf(85), severityOf(10)]).toEqual(['high', 'low', 'critical', 'info']);
  });

  it("applies the source's severity mapping first", () => {
    const [alert] = normalize(
      { event_type: 'x', data: { alert_id: 'a', severity: 'High' } },
      { ...ctx, severityMapping: { high: 'critical' } },
    );
    expect(alert).toMatchObject({ severity: 'critical', raw_severity: 'High' });
  });

  it('fits only objects with event_type and a data object', () => {
    expect(genericNormalizer.matches({ event_type: 'test', data: {} })).toBe(true);
    expect(genericNormalizer.matches({ event_type: 'test' })).toBe(false);
    expect(genericNormalizer.matches({ event_type: 'test', data: [] })).toBe(false);
    expect(genericNormalizer.matches('event_type')).toBe(false);
  });
});
