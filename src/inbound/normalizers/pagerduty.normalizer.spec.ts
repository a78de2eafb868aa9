import { describe, expect, it } from 'vitest';
import { pagerdutyNormalizer } from './pagerduty.normalizer';
import type { JsonRecord, NormalizeContext } from './types';

const ctx: NormalizeContext = { receivedAt: new Date('2024-06-01T12:00:00.000Z') };
const normalize = (payload: JsonRecord, context: NormalizeContext = ctx) => pagerdutyNormalizer.normalize(payload, context);

const ROUTING_KEY = 'e93facc04764012d7bfb002500d5d1a6';

const trigger = {
  routing_key: ROUTING_KEY,
  event_action: 'trigger',
  dedup_key: 'ids/prod-web-03/ET-2027865',
  payload: {
    summary: 'Outbound connection to known C2 198.51.100.200 from prod-web-03',
    source: 'prod-web-03.example.com',
    severity: 'critical',
    timestamp: '2024-01-15T10:00:00.000+0000',
    component: 'nginx',
    group: 'prod-web',
    class: 'network intrusion',
    custom_details: {
      signature: 'ET MALWARE Known C2 Beacon',
      dest_url: 'http://c2.evil.example/beacon',
      sha256: '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f',
    },
  },
  client: 'Suricata Monitor',
  client_url: 'https://monitoring.example.com',
  links: [{ href: 'https://grafana.example.com/d/ids', text: 'IDS dashboard' }],
  images: [{ src: 'https://grafana.example.com/render/ids.png', href: 'https://grafana.example.com/d/ids', alt: 'IDS graph' }],
};

describe('PagerDuty Events v2 normalizer', () => {
  it('normalizes a trigger event', () => {
    expect(normalize(trigger)).toEqual([
      {
        vendor: 'pagerduty',
        vendor_alert_id: 'ids/prod-web-03/ET-2027865',
        title: 'Outbound connection to known C2 198.51.100.200 from prod-web-03',
        severity: 'critical',
        raw_severity: 'critical',
        occurred_at: '2024-01-15T10:00:00.000Z',
        category: 'network intrusion',
        host: 'prod-web-03.example.com',
        indicators: {
          emails: [],
          urls: ['http://c2.evil.example/beacon'],
          domains: ['c2.evil.example'],
          ips: ['198.51.100.200'],
          hashes: ['275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f'],
        },
        action: 'trigger',
        normalization: 'vendor',
      },
    ]);
  });

  it('never lets the routing key into the output', () => {
    const withoutDedup = { ...trigger, dedup_key: undefined };
    for (const payload of [trigger, withoutDedup, { routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'k' }]) {
      expect(JSON.stringify(normalize(payload))).not.toContain(ROUTING_KEY);
    }
  });

  it('acknowledges and resolves by dedup_key without opening anything', () => {
    const ack = normalize({ routing_key: ROUTING_KEY, event_action: 'acknowledge', dedup_key: 'ids/prod-web-03/ET-2027865' })[0];
    const resolve = normalize({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'ids/prod-web-03/ET-2027865' })[0];
    expect(ack).toMatchObject({
      vendor_alert_id: 'ids/prod-web-03/ET-2027865',
      action: 'acknowledge',
      title: 'PagerDuty acknowledge: ids/prod-web-03/ET-2027865',
      raw_severity: null,
      occurred_at: '2024-06-01T12:00:00.000Z',
    });
    expect(resolve).toMatchObject({ vendor_alert_id: 'ids/prod-web-03/ET-2027865', action: 'resolve' });
  });

  it('derives a stable id for a trigger without dedup_key, whatever routing key sent it', () => {
    const { dedup_key: _d, ...noKey } = trigger;
    const a = normalize(noKey)[0]?.vendor_alert_id;
    const b = normalize({ ...noKey, routing_key: 'another-integration-key-0000000000' })[0]?.vendor_alert_id;
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(a).toBe(b);
  });

  it("maps PagerDuty's severities: error → high, warning → medium, info → info", () => {
    const severityOf = (severity: string) => normalize({ ...trigger, payload: { ...trigger.payload, severity } })[0]?.severity;
    expect(['critical', 'error', 'warning', 'info'].map(severityOf)).toEqual(['critical', 'high', 'medium', 'info']);
  });

  it("applies the source's severity mapping first", () => {
    const [alert] = normalize(trigger, { ...ctx, severityMapping: { critical: 'high' } });
    expect(alert?.severity).toBe('high');
  });

  it('fits events with a known event_action and a payload or dedup_key', () => {
    expect(pagerdutyNormalizer.matches(trigger)).toBe(true);
    expect(pagerdutyNormalizer.matches({ event_action: 'resolve', dedup_key: 'k' })).toBe(true);
    expect(pagerdutyNormalizer.matches({ event_action: 'resolve' })).toBe(false);
    expect(pagerdutyNormalizer.matches({ event_action: 'snooze', dedup_key: 'k' })).toBe(false);
  });
});
