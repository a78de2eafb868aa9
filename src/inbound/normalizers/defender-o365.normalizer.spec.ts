import { describe, expect, it } from 'vitest';
import { defenderO365Normalizer } from './defender-o365.normalizer';
import type { JsonRecord, NormalizeContext } from './types';

const ctx: NormalizeContext = { receivedAt: new Date('2024-06-01T12:00:00.000Z') };
const normalize = (payload: JsonRecord, context: NormalizeContext = ctx) => defenderO365Normalizer.normalize(payload, context);

const seedEmailAlert = {
  eventType: 'PhishingEmail',
  id: 'AAMkAGI2...',
  creationTime: '2024-01-15T10:00:00Z',
  severity: 'high',
  category: 'Phish',
  entityType: 'Email',
  data: {
    sender: 'phisher@malicious.com',
    subject: 'Urgent Action Required',
    recipients: ['user@company.com'],
  },
};

/** A Defender for Office 365 phishing alert as Graph's alerts_v2 returns it. */
const graphPhishAlert = {
  '@odata.type': '#microsoft.graph.security.alert',
  id: 'fa2f7b5a6c-8f37-4e4b-9f0e-1c3f2e0d9b11',
  providerAlertId: '8f37c0de-4e4b-9f0e-1c3f2e0d9b11',
  incidentId: '30412',
  status: 'new',
  severity: 'high',
  classification: null,
  determination: null,
  serviceSource: 'microsoftDefenderForOffice365',
  detectionSource: 'microsoftDefenderForOffice365',
  title: 'Email messages containing malicious URL removed after delivery',
  description: 'Emails with a malicious URL were delivered and later removed.',
  category: 'InitialAccess',
  alertWebUrl: 'https://security.microsoft.com/alerts/fa2f7b5a6c?tid=b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c',
  mitreTechniques: ['T1566.002'],
  createdDateTime: '2024-01-15T10:05:12.1234567Z',
  lastUpdateDateTime: '2024-01-15T10:20:00Z',
  firstActivityDateTime: '2024-01-15T09:58:30.5Z',
  lastActivityDateTime: '2024-01-15T09:58:30.5Z',
  evidence: [
    {
      '@odata.type': '#microsoft.graph.security.analyzedMessageEvidence',
      createdDateTime: '2024-01-15T10:05:12.1234567Z',
      verdict: 'malicious',
      remediationStatus: 'remediated',
      roles: [],
      tags: [],
      networkMessageId: '6a9e9e7f-2b1c-4f6d-0c9a-08dc15a1b2c3',
      internetMessageId: '<AB12CD34@mail.evil.example>',
      subject: 'Urgent Action Required',
      language: 'en',
      senderIp: '203.0.113.25',
      recipientEmailAddress: 'User@Company.com',
      antiSpamDirection: 'inbound',
      deliveryAction: 'delivered',
      deliveryLocation: 'inbox',
      threats: ['Phish'],
      threatDetectionMethods: ['urlDetonationReputation'],
      urls: ['https://login.evil.example/office365?u=user'],
      urlCount: 1,
      attachmentsCount: 0,
      p1Sender: { displayName: 'IT Support', domainName: 'evil.example', emailAddress: 'support@evil.example' },
      p2Sender: { displayName: 'IT Support', domainName: 'evil.example', emailAddress: 'it-support@evil.example' },
      receivedDateTime: '2024-01-15T09:58:30Z',
    },
    { '@odata.type': '#microsoft.graph.security.urlEvidence', verdict: 'malicious', url: 'https://login.evil.example/office365?u=user' },
    { '@odata.type': '#microsoft.graph.security.ipEvidence', verdict: 'suspicious', ipAddress: '203.0.113.25', countryLetterCode: 'NL' },
    {
      '@odata.type': '#microsoft.graph.security.mailboxEvidence',
      primaryAddress: 'user@company.com',
      displayName: 'User',
      userAccount: { accountName: 'user', domainName: 'company.com', userPrincipalName: 'user@company.com' },
    },
    {
      '@odata.type': '#microsoft.graph.security.userEvidence',
      userAccount: {
        accountName: 'user',
        domainName: 'COMPANY',
        userSid: 'S-1-5-21-1234567890-123456789-1234567890-1001',
        azureAdUserId: 'a2b3c4d5-0000-4000-8000-123456789abc',
        userPrincipalName: 'user@company.com',
        displayName: 'User',
      },
    },
  ],
};

/** The Defender for Endpoint example of Graph's "Get alert" documentation, shortened. */
const graphEndpointAlert = {
  '@odata.type': '#microsoft.graph.security.alert',
  id: 'da637578995287051192_756343937',
  providerAlertId: 'da637578995287051192_756343937',
  incidentId: '28282',
  status: 'new',
  severity: 'low',
  serviceSource: 'microsoftDefenderForEndpoint',
  detectionSource: 'antivirus',
  title: 'Suspicious execution of hidden file',
  category: 'DefenseEvasion',
  createdDateTime: '2021-04-27T12:19:27.7211305Z',
  firstActivityDateTime: '2021-04-26T07:45:50.116Z',
  evidence: [
    {
      '@odata.type': '#microsoft.graph.security.deviceEvidence',
      mdeDeviceId: '73e7e2de709dff64ef64b1d0c30e67fab63279db',
      deviceDnsName: 'tempDns',
      ipInterfaces: ['1.1.1.1'],
      loggedOnUsers: [],
    },
    {
      '@odata.type': '#microsoft.graph.security.fileEvidence',
      mdeDeviceId: '73e7e2de709dff64ef64b1d0c30e67fab63279db',
      fileDetails: {
        sha1: '5f1e8acedc065031aad553b710838eb366cfee9a',
        sha256: '8963a19fb992ad9a76576c5638fd68292cffb9aaac29eb8285f9abf6196a7dec',
        fileName: 'MsSense.exe',
        filePath: 'C:\\Program Files\\temp',
      },
    },
    {
      '@odata.type': '#microsoft.graph.security.processEvidence',
      processCommandLine: '"MsSense.exe"',
      imageFile: { sha1: '5f1e8acedc065031aad553b710838eb366cfee9a', sha256: '8963a19fb992ad9a76576c5638fd68292cffb9aaac29eb8285f9abf6196a7dec' },
      parentProcessImageFile: { sha1: null, sha256: null, fileName: 'services.exe' },
      userAccount: { accountName: 'SYSTEM', domainName: 'NT AUTHORITY', userSid: 'S-1-5-18' },
    },
    { '@odata.type': '#microsoft.graph.security.registryKeyEvidence', registryKey: 'SYSTEM\\CONTROLSET001', registryHive: 'HKEY_LOCAL_MACHINE' },
  ],
};

describe('Defender for Office 365 normalizer', () => {
  it("normalizes the contract's email alert", () => {
    expect(normalize(seedEmailAlert)).toEqual([
      {
        vendor: 'defender_o365',
        vendor_alert_id: 'AAMkAGI2...',
        title: 'PhishingEmail: Urgent Action Required',
        severity: 'high',
        raw_severity: 'high',
        occurred_at: '2024-01-15T10:00:00.000Z',
        category: 'Phish',
        user: 'user@company.com',
        indicators: {
          emails: ['phisher@malicious.com', 'user@company.com'],
          urls: [],
          domains: ['malicious.com', 'company.com'],
          ips: [],
          hashes: [],
        },
        action: 'trigger',
        normalization: 'vendor',
      },
    ]);
  });

  it('names no user when an email had several recipients, and reads URLs and IPs from its data', () => {
    const [alert] = normalize({
      ...seedEmailAlert,
      data: { ...seedEmailAlert.data, recipients: ['a@company.com', 'b@company.com'], senderIp: '198.51.100.9', urls: ['http://evil.example/x'] },
    });
    expect(alert).not.toHaveProperty('user');
    expect(alert?.indicators).toMatchObject({ ips: ['198.51.100.9'], urls: ['http://evil.example/x'] });
  });

  it('normalizes a Graph phishing alert from its typed evidence', () => {
    expect(normalize(graphPhishAlert)).toEqual([
      {
        vendor: 'defender_o365',
        vendor_alert_id: 'fa2f7b5a6c-8f37-4e4b-9f0e-1c3f2e0d9b11',
        title: 'Email messages containing malicious URL removed after delivery',
        severity: 'high',
        raw_severity: 'high',
        occurred_at: '2024-01-15T09:58:30.500Z',
        category: 'InitialAccess',
        user: 'user@company.com',
        indicators: {
          emails: ['support@evil.example', 'it-support@evil.example', 'user@company.com'],
          urls: ['https://login.evil.example/office365?u=user'],
          domains: ['evil.example', 'company.com', 'login.evil.example'],
          ips: ['203.0.113.25'],
          hashes: [],
        },
        action: 'trigger',
        normalization: 'vendor',
      },
    ]);
  });

  it('takes host and file hashes from endpoint evidence, and no device id for a hash', () => {
    const [alert] = normalize(graphEndpointAlert);
    expect(alert).toMatchObject({
      vendor_alert_id: 'da637578995287051192_756343937',
      severity: 'low',
      occurred_at: '2021-04-26T07:45:50.116Z',
      category: 'DefenseEvasion',
      host: 'tempDns',
    });
    expect(alert).not.toHaveProperty('user');
    expect(alert?.indicators.hashes).toEqual([
      '8963a19fb992ad9a76576c5638fd68292cffb9aaac29eb8285f9abf6196a7dec',
      '5f1e8acedc065031aad553b710838eb366cfee9a',
    ]);
  });

  it("maps Graph's informational to info and treats unknown as no severity", () => {
    expect(normalize({ ...graphEndpointAlert, severity: 'informational' })[0]?.severity).toBe('info');
    const [unknown] = normalize({ ...graphEndpointAlert, severity: 'unknown' }, { ...ctx, defaultSeverity: 'low' });
    expect(unknown).toMatchObject({ severity: 'low', raw_severity: 'unknown' });
  });

  it('falls back to createdDateTime, then to the receive time', () => {
    const { firstActivityDateTime: _first, ...withoutActivity } = graphEndpointAlert;
    expect(normalize(withoutActivity)[0]?.occurred_at).toBe('2021-04-27T12:19:27.721Z');
    const { createdDateTime: _created, ...withoutTimes } = withoutActivity;
    expect(normalize(withoutTimes)[0]?.occurred_at).toBe('2024-06-01T12:00:00.000Z');
  });

  it('resolves the incident when Graph reports the alert resolved', () => {
    expect(normalize({ ...graphPhishAlert, status: 'resolved' })[0]?.action).toBe('resolve');
    expect(normalize({ ...graphPhishAlert, status: 'inProgress' })[0]?.action).toBe('trigger');
  });

  it('turns a Graph collection into one alert per item, unwrapping change notifications', () => {
    const alerts = normalize({
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#security/alerts_v2',
      value: [
        graphPhishAlert,
        { subscriptionId: '7f105c7d', changeType: 'created', resource: 'security/alerts_v2/da63', resourceData: graphEndpointAlert },
        { subscriptionId: '7f105c7d', changeType: 'updated', resource: 'security/alerts_v2/xyz' },
      ],
    });
    expect(alerts.map((a) => [a.vendor, a.vendor_alert_id, a.normalization])).toEqual([
      ['defender_o365', 'fa2f7b5a6c-8f37-4e4b-9f0e-1c3f2e0d9b11', 'vendor'],
      ['defender_o365', 'da637578995287051192_756343937', 'vendor'],
      // An item that is not an alert still reaches an analyst.
      ['unknown', expect.stringMatching(/^sha256:/), 'fallback'],
    ]);
  });

  it('recognises Graph alerts without @odata.type by their distinctive keys', () => {
    const { '@odata.type': _type, ...untyped } = graphEndpointAlert;
    expect(defenderO365Normalizer.matches(untyped)).toBe(true);
    expect(defenderO365Normalizer.matches({ id: '1', title: 'x', severity: 'high' })).toBe(false);
    expect(defenderO365Normalizer.matches({ '@odata.type': '#microsoft.graph.security.incident', id: '1', title: 'x', severity: 'high' })).toBe(false);
    expect(defenderO365Normalizer.matches({ value: [] })).toBe(false);
    expect(defenderO365Normalizer.matches(seedEmailAlert)).toBe(true);
  });
});
