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
        vendor_alert_id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
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
