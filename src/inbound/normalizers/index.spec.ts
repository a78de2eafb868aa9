import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VENDOR_FORMATS, detectFormat, matchingFormats, normalize, type NormalizeContext, type VendorFormat } from './index';

const FIXTURE_DIR = join(__dirname, '../../../test/fixtures/vendors');
const vendorPayload = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURE_DIR, `${name}.json`), 'utf8'));
/** Fixture file prefix → the format its payload is documented as. */
const FIXTURE_FORMAT = new Map<string, VendorFormat>([
  ['alertmanager', 'alertmanager'], ['chronicle', 'chronicle'], ['crowdstrike', 'crowdstrike'], ['defender', 'defender_o365'],
  ['elastic', 'elastic'], ['generic', 'generic'], ['grafana', 'grafana'], ['opsgenie', 'opsgenie'], ['pagerduty', 'pagerduty'],
  ['sentinel', 'sentinel'], ['splunk', 'splunk'], ['thehive', 'thehive'],
]);

const ctx: NormalizeContext = { receivedAt: new Date('2024-06-01T12:00:00.000Z') };

/** The contract's examples, verbatim where they are valid JSON (the generic one elides its details). */
const seed = {
  generic: {
    event_type: 'security_alert',
    timestamp: '2024-01-15T10:00:00Z',
    source: 'email-gateway',
    data: { alert_id: 'alert-123', severity: 'high', details: {} },
  },
  defender_o365: {
    eventType: 'PhishingEmail',
    id: 'AAMkAGI2...',
    creationTime: '2024-01-15T10:00:00Z',
    severity: 'high',
    category: 'Phish',
    entityType: 'Email',
    data: { sender: 'phisher@malicious.com', subject: 'Urgent Action Required', recipients: ['user@company.com'] },
  },
  crowdstrike: {
    metadata: { eventType: 'DetectionSummaryEvent', eventCreationTime: 1705320000000 },
    event: { DetectId: 'ldt:abc123', Severity: 4, HostnameField: 'WORKSTATION-01', DetectName: 'Malicious File Detected' },
  },
  splunk: {
    result: { host: 'server-01', source: 'WinEventLog:Security', sourcetype: 'WinEventLog', _raw: '...', EventCode: '4625' },
    search_name: 'Failed Login Alert',
    trigger_time: 1705320000,
  },
  alertmanager: {
    version: '4',
    groupKey: '{}:{alertname="InstanceDown"}',
    status: 'firing',
    receiver: 'towline',
    groupLabels: { alertname: 'InstanceDown' },
    commonLabels: { alertname: 'InstanceDown', severity: 'critical' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'InstanceDown', instance: 'web-1:9100', severity: 'critical' },
        annotations: { summary: 'web-1 is down' },
        startsAt: '2024-01-15T10:00:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus:9090/graph',
        fingerprint: 'f1e2d3c4b5a69788',
      },
    ],
  },
  pagerduty: {
    routing_key: 'e93facc04764012d7bfb002500d5d1a6',
    event_action: 'trigger',
    dedup_key: 'web-1/down',
    payload: { summary: 'web-1 is down', source: 'web-1', severity: 'error' },
  },
  sentinel: vendorPayload('sentinel-incident'),
  elastic: vendorPayload('elastic-detection'),
  chronicle: vendorPayload('chronicle-detection'),
  grafana: vendorPayload('grafana-firing'),
  opsgenie: vendorPayload('opsgenie-create'),
  thehive: vendorPayload('thehive-alert'),
} satisfies Record<VendorFormat, unknown>;

const graphAlert = {
  '@odata.type': '#microsoft.graph.security.alert',
  id: 'da637578995287051192_756343937',
  title: 'Suspicious execution of hidden file',
  severity: 'low',
  serviceSource: 'microsoftDefenderForEndpoint',
  createdDateTime: '2021-04-27T12:19:27.7211305Z',
  evidence: [],
};

describe('format detection', () => {
  it.each(readdirSync(FIXTURE_DIR).filter((file) => file.endsWith('.json')).map((file) => file.replace(/\.json$/, '')))(
    'fits the %s fixture to exactly one format, the one it is documented as',
    (fixture) => {
      const expected = FIXTURE_FORMAT.get(fixture.split('-')[0] ?? '');
      expect(matchingFormats(vendorPayload(fixture))).toEqual(expected === undefined ? [] : [expected]);
    },
  );

  it('gives overlapping shapes to one format: Grafana over Alertmanager, TheHive over generic, Elastic over Alertmanager', () => {
    const grafana = vendorPayload('grafana-firing') as Record<string, unknown>;
    // Grafana's payload is Alertmanager's plus orgId and per-alert links and values: any one of them decides.
    expect(matchingFormats(grafana)).toEqual(['grafana']);
    const { orgId: _orgId, ...withoutOrg } = grafana;
    expect(matchingFormats(withoutOrg)).toEqual(['grafana']);
    expect(matchingFormats(vendorPayload('alertmanager-firing'))).toEqual(['alertmanager']);
    const hive = { ...(vendorPayload('thehive-alert') as object), event_type: 'security_alert', data: { alert_id: 'x' } };
    expect(matchingFormats(hive)).toEqual(['thehive']);
    const elastic = { ...(vendorPayload('elastic-detection') as object), version: '4', groupKey: 'g' };
    expect(matchingFormats(elastic)).toEqual(['elastic']);
  });

  it.each(Object.entries(seed))('recognises the %s example', (format, payload) => {
    expect(detectFormat(payload)).toBe(format);
  });

  it('recognises the EPP detection, a Graph alert and a Graph collection', () => {
    expect(detectFormat({ metadata: { eventType: 'EppDetectionSummaryEvent' }, event: { CompositeId: 'x', Severity: 70 } })).toBe('crowdstrike');
    expect(detectFormat(graphAlert)).toBe('defender_o365');
    expect(detectFormat({ value: [graphAlert] })).toBe('defender_o365');
  });

  it("recognises PagerDuty acknowledge and resolve, and Splunk with a null search_name", () => {
    expect(detectFormat({ routing_key: 'k', event_action: 'resolve', dedup_key: 'web-1/down' })).toBe('pagerduty');
    expect(detectFormat({ result: { host: 'h' }, sid: 'scheduler__admin__search__RMD5', search_name: null })).toBe('splunk');
  });

  it('recognises nothing in unknown shapes and in values that are not objects', () => {
    for (const payload of [{ foo: 'bar' }, { event_type: 'x' }, { value: [] }, [], 42, 'text', null, true]) {
      expect(detectFormat(payload)).toBeNull();
    }
  });

  it('lists the formats in detection order, generic (the loosest) last', () => {
    expect(VENDOR_FORMATS.at(-1)).toBe('generic');
    expect([...VENDOR_FORMATS].sort()).toEqual(Object.keys(seed).sort());
  });
});

describe('normalize', () => {
  it.each(Object.entries(seed))('dispatches the %s example to its normalizer on auto', (format, payload) => {
    const alerts = normalize(payload, 'auto', ctx);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ vendor: format, normalization: 'vendor' });
  });

  it('gives the same result on auto as with the format named', () => {
    for (const [format, payload] of Object.entries(seed) as [VendorFormat, unknown][]) {
      expect(normalize(payload, format, ctx)).toEqual(normalize(payload, 'auto', ctx));
    }
  });

  it('falls back rather than failing when the named format does not fit', () => {
    const [alert] = normalize(seed.crowdstrike, 'splunk', ctx);
    expect(alert).toMatchObject({ vendor: 'unknown', normalization: 'fallback', action: 'trigger' });
  });

  it('makes an unknown object one fallback alert', () => {
    const alerts = normalize({ title: 'Odd tool says hi', severity: 'low' }, 'auto', ctx);
    expect(alerts).toEqual([expect.objectContaining({ vendor: 'unknown', title: 'Odd tool says hi', severity: 'low', normalization: 'fallback' })]);
  });

  it('makes a value that is not an object one fallback alert', () => {
    for (const payload of [42, 'text', null, true, []]) {
      const alerts = normalize(payload, 'auto', ctx);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ vendor: 'unknown', normalization: 'fallback' });
    }
  });

  it('normalizes each element of a top-level array on its own', () => {
    const alerts = normalize([seed.crowdstrike, seed.pagerduty, { foo: 'bar' }, [1]], 'auto', ctx);
    expect(alerts.map((a) => a.vendor)).toEqual(['crowdstrike', 'pagerduty', 'unknown', 'unknown']);
  });

  it('treats a format name it does not know as no fit', () => {
    expect(normalize(seed.generic, 'nonsense' as VendorFormat, ctx)[0]?.normalization).toBe('fallback');
    expect(normalize(seed.generic, 'toString' as VendorFormat, ctx)[0]?.normalization).toBe('fallback');
  });

  it('is deterministic: the same payload gives the same alerts', () => {
    const payload = { ...seed.splunk };
    expect(normalize(payload, 'auto', ctx)).toEqual(normalize(JSON.parse(JSON.stringify(payload)), 'auto', ctx));
  });
});
