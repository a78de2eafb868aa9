import { describe, expect, it } from 'vitest';
import { splunkNormalizer } from './splunk.normalizer';
import type { JsonRecord, NormalizeContext } from './types';

const ctx: NormalizeContext = { receivedAt: new Date('2024-06-01T12:00:00.000Z') };
const normalize = (payload: JsonRecord, context: NormalizeContext = ctx) => splunkNormalizer.normalize(payload, context);

const seedAlert = {
  result: {
    host: 'server-01',
    source: 'WinEventLog:Security',
    sourcetype: 'WinEventLog',
    _raw: '...',
    EventCode: '4625',
  },
  search_name: 'Failed Login Alert',
  trigger_time: 1705320000,
};

/** What Splunk's webhook alert action posts for an ad-hoc search: search_name is null, sid is set. */
const adHocAlert = {
  sid: 'rt_md_1705320000.1234',
  search_name: null,
  app: 'search',
  owner: 'admin',
  results_link: 'https://splunk.example.com:8000/app/search/search?q=%7Cloadjob%20rt_md_1705320000.1234',
  result: {
    _time: '1705320000.000',
    _bkt: 'main~12~D0A1B2C3-D4E5-F607-1829-3A4B5C6D7E8F',
    _cd: '12:345678',
    _serial: '0',
    _si: ['idx01', 'main'],
    _sourcetype: 'WinEventLog',
    host: 'dc01.corp.example',
    source: 'WinEventLog:Security',
    sourcetype: 'WinEventLog',
    EventCode: '4625',
    Account_Name: ['-', 'jdoe'],
    user: ['jdoe'],
    src_ip: '203.0.113.50',
    count: '27',
    _raw:
      '01/15/2024 12:00:00 PM LogName=Security EventCode=4625 Message=An account failed to log on. ' +
      'Account Name: jdoe Source Network Address: 203.0.113.50 Workstation Name: KALI',
  },
};

describe('Splunk normalizer', () => {
  it("normalizes the contract's alert, with the source default severity", () => {
    expect(normalize(seedAlert)).toEqual([
      {
        vendor: 'splunk',
        vendor_alert_id: 'splunk:Failed Login Alert:server-01',
        title: 'Failed Login Alert',
        severity: 'medium',
        raw_severity: null,
        occurred_at: '2024-01-15T12:00:00.000Z',
        category: null,
        host: 'server-01',
        indicators: { emails: [], urls: [], domains: [], ips: [], hashes: [] },
        action: 'trigger',
        normalization: 'vendor',
      },
    ]);
  });

  it('keys repeats by saved search and host, not by the sid Splunk changes on every run', () => {
    const run = (sid: string, host: string) => normalize({ ...seedAlert, sid, result: { ...seedAlert.result, host } })[0]?.vendor_alert_id;
    expect(run('scheduler__admin__search__RMD5aa_at_1705320000_1', 'server-01')).toBe(run('scheduler__admin__search__RMD5aa_at_1705320300_2', 'server-01'));
    expect(run('scheduler__admin__search__RMD5aa_at_1705320000_1', 'SERVER-01')).toBe(run('x', 'server-01'));
    expect(run('same-sid', 'server-01')).not.toBe(run('same-sid', 'server-02'));
    expect(normalize({ ...seedAlert, search_name: 'Other search' })[0]?.vendor_alert_id).toBe('splunk:Other search:server-01');
    // dest stands in for a result without host (CIM data models name the affected machine so).
    expect(normalize({ search_name: 'S', result: { dest: 'fw-01' } })[0]?.vendor_alert_id).toBe('splunk:S:fw-01');
  });

  it('keys by the field the source names instead of the host', () => {
    const payload = { ...seedAlert, result: { ...seedAlert.result, user: ['jdoe', 'x'], src_ip: '203.0.113.50' } };
    expect(normalize(payload, { ...ctx, dedupField: 'user' })[0]?.vendor_alert_id).toBe('splunk:Failed Login Alert:jdoe');
    expect(normalize(payload, { ...ctx, dedupField: 'src_ip' })[0]?.vendor_alert_id).toBe('splunk:Failed Login Alert:203.0.113.50');
    // A field the result does not have (own keys only: never an inherited member) keys by the search alone.
    expect(normalize(payload, { ...ctx, dedupField: 'constructor' })[0]?.vendor_alert_id).toBe('splunk:Failed Login Alert:');
  });

  it("titles an alert without search_name 'Splunk alert' and keys it by sid", () => {
    const [alert] = normalize(adHocAlert);
    expect(alert).toMatchObject({
      vendor_alert_id: 'rt_md_1705320000.1234',
      title: 'Splunk alert',
      occurred_at: '2024-01-15T12:00:00.000Z',
      host: 'dc01.corp.example',
      user: 'jdoe',
    });
  });

  it("reads indicators from the result and _raw, not from Splunk's bookkeeping or its own links", () => {
    expect(normalize(adHocAlert)[0]?.indicators).toEqual({ emails: [], urls: [], domains: [], ips: ['203.0.113.50'], hashes: [] });
  });

  it('uses a severity or urgency field of the result when there is one', () => {
    const severityOf = (fields: JsonRecord) => normalize({ ...adHocAlert, result: { ...adHocAlert.result, ...fields } })[0];
    expect(severityOf({ urgency: 'critical' })).toMatchObject({ severity: 'critical', raw_severity: 'critical' });
    expect(severityOf({ severity: 'Low', urgency: 'high' })).toMatchObject({ severity: 'low', raw_severity: 'Low' });
  });

  it("reads a numeric severity on Splunk's alert.severity scale (1 debug … 6 fatal)", () => {
    const severityOf = (severity: string) => normalize({ ...seedAlert, result: { ...seedAlert.result, severity } })[0]?.severity;
    expect(['1', '2', '3', '4', '5', '6'].map(severityOf)).toEqual(['info', 'info', 'low', 'medium', 'high', 'critical']);
  });

  it("uses the source's default severity when the result has none", () => {
    expect(normalize(adHocAlert, { ...ctx, defaultSeverity: 'high' })[0]?.severity).toBe('high');
  });

  it('uses the matched event time when the payload has no trigger_time, else the receive time', () => {
    const { trigger_time: _t, ...untimed } = seedAlert;
    expect(normalize(untimed)[0]?.occurred_at).toBe('2024-06-01T12:00:00.000Z');
    expect(normalize({ ...untimed, result: { ...untimed.result, _time: '2024-01-15T11:59:58.000+01:00' } })[0]?.occurred_at).toBe(
      '2024-01-15T10:59:58.000Z',
    );
  });

  it('fits payloads with a search_name key, or a result with a sid', () => {
    expect(splunkNormalizer.matches(seedAlert)).toBe(true);
    expect(splunkNormalizer.matches({ search_name: null, result: {} })).toBe(true);
    expect(splunkNormalizer.matches({ result: {}, sid: '1' })).toBe(true);
    expect(splunkNormalizer.matches({ result: {} })).toBe(false);
  });
});
