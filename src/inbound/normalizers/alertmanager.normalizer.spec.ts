import { describe, expect, it } from 'vitest';
import { alertmanagerNormalizer, hostOfInstance } from './alertmanager.normalizer';
import type { JsonRecord, NormalizeContext } from './types';

const ctx: NormalizeContext = { receivedAt: new Date('2024-06-01T12:00:00.000Z') };
const normalize = (payload: JsonRecord, context: NormalizeContext = ctx) => alertmanagerNormalizer.normalize(payload, context);

/** A v4 webhook grouping three alerts by alertname; the last one has resolved. */
const notification = {
  version: '4',
  groupKey: '{}/{severity=~"critical|warning"}:{alertname="SSHBruteForce"}',
  truncatedAlerts: 0,
  status: 'firing',
  receiver: 'towline',
  groupLabels: { alertname: 'SSHBruteForce' },
  commonLabels: { alertname: 'SSHBruteForce', job: 'node' },
  commonAnnotations: { runbook_url: 'https://runbooks.example.com/ssh-bruteforce' },
  externalURL: 'http://alertmanager.example.com:9093',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'SSHBruteForce', instance: '10.0.0.5:9100', job: 'node', severity: 'critical' },
      annotations: {
        summary: 'SSH brute force on 10.0.0.5',
        description: '512 failed logins from 203.0.113.66 in 5 minutes',
        runbook_url: 'https://runbooks.example.com/ssh-bruteforce',
      },
      startsAt: '2024-01-15T10:00:00.123456789Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example.com:9090/graph?g0.expr=rate%28sshd_failed%5B5m%5D%29',
      fingerprint: 'a1b2c3d4e5f60718',
    },
    {
      status: 'firing',
      labels: { alertname: 'SSHBruteForce', instance: 'bastion.example.com:9100', host: 'bastion-01', job: 'node', severity: 'warning' },
      annotations: { summary: 'SSH brute force on bastion' },
      startsAt: '2024-01-15T10:01:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example.com:9090/graph',
      fingerprint: 'b2c3d4e5f6071829',
    },
    {
      status: 'resolved',
      labels: { alertname: 'SSHBruteForce', instance: '[2001:db8::7]:9100', job: 'node', severity: 'info' },
      annotations: {},
      startsAt: '2024-01-15T09:00:00Z',
      endsAt: '2024-01-15T09:45:00+01:00',
      generatorURL: 'http://prometheus.example.com:9090/graph',
      fingerprint: 'c3d4e5f607182930',
    },
  ],
};

describe('Alertmanager normalizer', () => {
  it('turns each item of a notification into its own alert', () => {
    const alerts = normalize(notification);
    expect(alerts.map((a) => [a.vendor_alert_id, a.action, a.severity, a.host])).toEqual([
      ['a1b2c3d4e5f60718', 'trigger', 'critical', '10.0.0.5'],
      ['b2c3d4e5f6071829', 'trigger', 'medium', 'bastion-01'],
      ['c3d4e5f607182930', 'resolve', 'info', '2001:db8::7'],
    ]);
  });

  it('normalizes a firing item fully', () => {
    expect(normalize(notification)[0]).toEqual({
      vendor: 'alertmanager',
      vendor_alert_id: 'a1b2c3d4e5f60718',
      title: 'SSH brute force on 10.0.0.5',
      severity: 'critical',
      raw_severity: 'critical',
      occurred_at: '2024-01-15T10:00:00.123Z',
      category: 'SSHBruteForce',
      host: '10.0.0.5',
      // Runbook and Prometheus links are the team's tools, not evidence.
      indicators: { emails: [], urls: [], domains: [], ips: ['10.0.0.5', '203.0.113.66'], hashes: [] },
      action: 'trigger',
      normalization: 'vendor',
    });
  });

  it('dates a resolved item by when it ended and titles it by alertname without a summary', () => {
    expect(normalize(notification)[2]).toMatchObject({ title: 'SSHBruteForce', occurred_at: '2024-01-15T08:45:00.000Z', action: 'resolve' });
  });

  it('derives the same id for the firing and the resolved item when there is no fingerprint', () => {
    const labels = { alertname: 'HighCPU', instance: 'web-1:9100', severity: 'warning' };
    const firing = { status: 'firing', labels, annotations: { summary: 'CPU at 97%' }, startsAt: '2024-01-15T10:00:00Z' };
    const resolved = { status: 'resolved', labels, annotations: { summary: 'CPU back to 20%' }, startsAt: '2024-01-15T10:00:00Z', endsAt: '2024-01-15T10:30:00Z' };
    const [open, close] = normalize({ version: '4', groupKey: 'k', status: 'resolved', alerts: [firing, resolved] });
    expect(open?.vendor_alert_id).toMatch(/^sha256:/);
    expect(close?.vendor_alert_id).toBe(open?.vendor_alert_id);
    expect([open?.action, close?.action]).toEqual(['trigger', 'resolve']);
  });

  it('falls back to the common labels and the group status when items carry less', () => {
    const [alert] = normalize({
      version: '4',
      groupKey: 'k',
      status: 'resolved',
      commonLabels: { alertname: 'DiskFull', severity: 'warning', host: 'db-01' },
      commonAnnotations: { summary: 'Disk full on db-01' },
      alerts: [{ startsAt: '2024-01-15T10:00:00Z', endsAt: '2024-01-15T11:00:00Z' }],
    });
    expect(alert).toMatchObject({ title: 'Disk full on db-01', severity: 'medium', host: 'db-01', action: 'resolve' });
  });

  it('uses the source default when labels carry no severity, and the source mapping before the convention', () => {
    const item = { status: 'firing', labels: { alertname: 'X' }, startsAt: '2024-01-15T10:00:00Z' };
    expect(normalize({ version: '4', groupKey: 'k', alerts: [item] }, { ...ctx, defaultSeverity: 'low' })[0]?.severity).toBe('low');
    expect(normalize(notification, { ...ctx, severityMapping: { Warning: 'high' } })[1]?.severity).toBe('high');
  });

  it('turns an item that is not an object into a fallback alert rather than dropping it', () => {
    const alerts = normalize({ version: '4', groupKey: 'k', alerts: ['oops', notification.alerts[0]] });
    expect(alerts.map((a) => a.normalization)).toEqual(['fallback', 'vendor']);
  });

  it('strips the port from the scrape target to name the host', () => {
    expect(hostOfInstance('10.0.0.5:9100')).toBe('10.0.0.5');
    expect(hostOfInstance('node-1.example.com:9100')).toBe('node-1.example.com');
    expect(hostOfInstance('[2001:db8::7]:9100')).toBe('2001:db8::7');
    expect(hostOfInstance('2001:db8::7')).toBe('2001:db8::7');
    expect(hostOfInstance('https://shop.example.com/health')).toBe('shop.example.com');
    expect(hostOfInstance('localhost')).toBe('localhost');
    expect(hostOfInstance(undefined)).toBeUndefined();
  });

  it('fits payloads with a non-empty alerts list and a groupKey or version', () => {
    expect(alertmanagerNormalizer.matches(notification)).toBe(true);
    expect(alertmanagerNormalizer.matches({ ...notification, alerts: [] })).toBe(false);
    expect(alertmanagerNormalizer.matches({ alerts: notification.alerts })).toBe(false);
  });
});
