import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isSeverityMapping } from '../source-settings';
import { SEVERITIES, VENDOR_FORMATS, normalize, type NormalizeContext, type NormalizedAlert, type VendorFormat } from './index';
import { resolveSeverity, severityFromAny } from './severity';
import { derivedId, withoutSecrets } from './values';

/**
 * Vendor payloads are untrusted text, and every name Object.prototype owns (constructor, __proto__, toString, …)
 * is a string a sender can put anywhere. Used as a key into a plain-object table, such a value returns an
 * inherited function instead of "not found", and a function in a normalized alert breaks everything downstream
 * (it does not survive JSON, so the stored alert and the read models disagree). Every format gets every name in
 * every field it maps, and as keys of every object it reads.
 */
const NAMES = Object.getOwnPropertyNames(Object.prototype);
const PRISTINE = new Map(NAMES.map((name) => [name, Object.getOwnPropertyDescriptor(Object.prototype, name)!]));
const DEFAULT = 'low' as const;
const ctx: NormalizeContext = { receivedAt: new Date('2024-06-01T12:00:00.000Z'), defaultSeverity: DEFAULT };
const ALERT_KEYS = new Set(['vendor', 'vendor_alert_id', 'title', 'severity', 'raw_severity', 'occurred_at', 'category', 'host', 'user', 'indicators', 'action', 'normalization']);

/** What the HTTP layer hands the normalizers: parsed JSON, so `__proto__` is an own key like any other. */
const json = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const FIXTURE_DIR = join(__dirname, '../../../test/fixtures/vendors');
const FIXTURES: [string, unknown][] = readdirSync(FIXTURE_DIR)
  .filter((file) => file.endsWith('.json'))
  .map((file) => [file.replace(/\.json$/, ''), JSON.parse(readFileSync(join(FIXTURE_DIR, file), 'utf8'))]);

const FORMAT_OF: Record<string, VendorFormat | 'auto'> = {
  alertmanager: 'alertmanager',
  chronicle: 'chronicle',
  crowdstrike: 'crowdstrike',
  elastic: 'elastic',
  grafana: 'grafana',
  opsgenie: 'opsgenie',
  sentinel: 'sentinel',
  thehive: 'thehive',
  defender: 'defender_o365',
  generic: 'generic',
  pagerduty: 'pagerduty',
  splunk: 'splunk',
  unrecognised: 'auto',
};
const formatOf = (fixture: string): VendorFormat | 'auto' => FORMAT_OF[fixture.split('-')[0]] ?? 'auto';

/** Nothing a payload or a mapping says may add to, or change, what every object inherits. */
function expectPrototypeUntouched(): void {
  expect(Reflect.ownKeys(Object.prototype)).toEqual(NAMES);
  for (const [name, before] of PRISTINE) {
    const now = Object.getOwnPropertyDescriptor(Object.prototype, name)!;
    const same = (['value', 'get', 'set', 'writable', 'enumerable', 'configurable'] as const).every((field) => now[field] === before[field]);
    expect(same, `Object.prototype.${name}`).toBe(true);
  }
}

function expectValid(alerts: NormalizedAlert[], where: string): void {
  expect(alerts.length, where).toBeGreaterThan(0);
  for (const alert of alerts) {
    // No function, undefined or other non-JSON value anywhere: the alert is exactly what gets stored.
    expect(json(alert), where).toStrictEqual(alert);
    expect(Object.keys(alert).filter((key) => !ALERT_KEYS.has(key)), where).toEqual([]);
    expect([...VENDOR_FORMATS, 'unknown'], where).toContain(alert.vendor);
    expect(typeof alert.vendor_alert_id === 'string' && alert.vendor_alert_id !== '', where).toBe(true);
    expect(typeof alert.title === 'string' && alert.title !== '', where).toBe(true);
    expect(SEVERITIES, where).toContain(alert.severity);
    expect(alert.raw_severity === null || typeof alert.raw_severity === 'string', where).toBe(true);
    expect(new Date(alert.occurred_at).toISOString(), where).toBe(alert.occurred_at);
    expect(alert.category === null || typeof alert.category === 'string', where).toBe(true);
    for (const key of ['host', 'user'] as const) expect(alert[key] === undefined || typeof alert[key] === 'string', `${where} ${key}`).toBe(true);
    expect(Object.keys(alert.indicators).sort(), where).toEqual(['domains', 'emails', 'hashes', 'ips', 'urls']);
    for (const list of Object.values(alert.indicators)) expect(Array.isArray(list) && list.every((v) => typeof v === 'string'), where).toBe(true);
    expect(['trigger', 'resolve', 'acknowledge'], where).toContain(alert.action);
    expect(['vendor', 'fallback'], where).toContain(alert.normalization);
  }
}

/** Paths of every string and number in a JSON value: the fields a sender controls. */
function leafPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => leafPaths(item, [...path, i]));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, child]) => leafPaths(child, [...path, key]));
  return typeof value === 'string' || typeof value === 'number' ? [path] : [];
}

function withLeaf(value: unknown, path: (string | number)[], leaf: unknown): unknown {
  const copy = json(value) as Record<string | number, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  at[path.at(-1)!] = leaf;
  return copy;
}

/** An object with every Object.prototype name as an own key, as JSON.parse would make it. */
const keyed = (value: (name: string) => unknown) => Object.fromEntries(NAMES.map((name) => [name, value(name)]));

/** Every object of a JSON value, however deep, also carrying every Object.prototype name as a key. */
function withPrototypeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withPrototypeKeys);
  if (typeof value !== 'object' || value === null) return value;
  const children = Object.entries(value).map(([key, child]) => [key, withPrototypeKeys(child)]);
  // Values of several shapes: a name, a number, an object keyed by names again, a list.
  const extra = keyed((name) => (name.length % 4 === 0 ? name : name.length % 4 === 1 ? 7 : name.length % 4 === 2 ? keyed((n) => n) : [name]));
  return json({ ...extra, ...Object.fromEntries(children) });
}

/**
 * One payload per documented shape with every field its normalizer maps set to `v` (ids, titles, severities,
 * statuses/actions, times, hosts, users, categories, labels, evidence), including fields the fixtures lack.
 */
const MAPPED: Record<string, (v: string) => unknown> = {
  'crowdstrike DetectionSummaryEvent': (v) => crowdstrike('DetectionSummaryEvent', v),
  'crowdstrike EppDetectionSummaryEvent': (v) => crowdstrike('EppDetectionSummaryEvent', v),
  'crowdstrike, eventType too': (v) => crowdstrike(v, v),
  alertmanager: (v) => ({
    version: v,
    groupKey: v,
    status: v,
    receiver: v,
    groupLabels: { alertname: v },
    commonLabels: { alertname: v, severity: v, [v]: v },
    commonAnnotations: { summary: v, title: v, [v]: v },
    alerts: [
      {
        status: v,
        labels: { alertname: v, severity: v, category: v, host: v, hostname: v, instance: v, [v]: v },
        annotations: { summary: v, title: v, runbook_url: v, [v]: v },
        startsAt: v,
        endsAt: v,
        fingerprint: v,
      },
      { status: 'resolved', labels: { severity: v, instance: v }, annotations: {}, startsAt: v, endsAt: v },
      { status: v, labels: { [v]: v } },
    ],
  }),
  ...Object.fromEntries(
    ['trigger', 'acknowledge', 'resolve'].map((action) => [
      `pagerduty ${action}`,
      (v: string) => ({
        routing_key: v,
        event_action: action,
        dedup_key: v,
        payload: { summary: v, source: v, severity: v, timestamp: v, component: v, group: v, class: v, custom_details: { [v]: v } },
      }),
    ]),
  ),
  ...Object.fromEntries(
    ['Create', 'Update'].map((eventType) => [
      `sentinel ${eventType}`,
      (v: string) => ({
        eventUniqueId: v,
        objectSchemaType: 'Incident',
        objectEventType: eventType,
        object: {
          id: v,
          name: v,
          type: 'Microsoft.SecurityInsights/Incidents',
          properties: {
            title: v,
            description: v,
            severity: v,
            status: v,
            incidentNumber: v,
            providerIncidentId: v,
            firstActivityTimeUtc: v,
            createdTimeUtc: v,
            additionalData: { tactics: [v], [v]: v },
            relatedEntities: ['Host', 'Account', 'Ip', 'Url', 'FileHash', 'DnsResolution', 'Mailbox', 'MailMessage', v].map((kind) => ({
              kind,
              properties: {
                hostName: v, dnsDomain: v, netBiosName: v, friendlyName: v, accountName: v, upnSuffix: v, ntDomain: v, address: v,
                url: v, hashValue: v, domainName: v, mailboxPrimaryAddress: v, upn: v, sender: v, p1Sender: v, p2Sender: v, senderIP: v, [v]: v,
              },
            })),
          },
        },
      }),
    ]),
  ),
  'sentinel object only': (v) => ({ type: 'Microsoft.SecurityInsights/Incidents', name: v, properties: { title: v, severity: v, status: 'Closed' } }),
  elastic: (v) => {
    const alert = {
      '_id': v,
      '@timestamp': v,
      'kibana.alert.uuid': v,
      'kibana.alert.rule.uuid': v,
      'kibana.alert.rule.name': v,
      'kibana.alert.rule.type': v,
      'kibana.alert.severity': v,
      'kibana.alert.risk_score': v,
      'kibana.alert.original_time': v,
      'kibana.alert.reason': v,
      'kibana.alert.rule.threat': [{ tactic: { name: v } }],
      host: { name: v, hostname: v },
      'user.name': v,
      user: { email: v },
      dns: { question: { name: v } },
      'url.full': v,
      url: { domain: v },
      email: { from: { address: v } },
      [v]: v,
    };
    return { rule: { id: v, name: v, type: v, severity: v, risk_score: v, [v]: v }, alerts: [alert, { kibana: { alert: { rule: { name: v } } }, [v]: v }, v] };
  },
  'elastic context': (v) => ({ context: { rule: { name: v, id: v }, alerts: [{ 'kibana.alert': { 'rule.name': v, severity: v }, 'host.name': v }] } }),
  chronicle: (v) => {
    const detection = {
      type: v,
      id: v,
      createdTime: v,
      detectionTime: v,
      timeWindow: { startTime: v, endTime: v },
      detection: [
        {
          ruleName: v,
          ruleId: v,
          ruleVersion: v,
          ruleType: v,
          severity: v,
          riskScore: v,
          ruleLabels: [{ key: 'severity', value: v }, { key: 'tactic', value: v }, { key: v, value: v }],
          outcomes: [{ key: 'risk_score', value: v }, { key: 'hostname', value: v }, { key: 'user', value: v }, { key: v, value: v }],
          detectionFields: [{ key: v, value: v }],
        },
      ],
      collectionElements: [
        {
          label: v,
          references: [
            {
              event: {
                metadata: { eventTimestamp: v },
                principal: { hostname: v, asset: { hostname: v }, ip: [v], user: { userid: v, emailAddresses: [v] } },
                target: { hostname: v, user: { userid: v } },
                network: { dns: { questions: [{ name: v }, v] } },
                [v]: v,
              },
            },
            v,
          ],
        },
        v,
      ],
    };
    return { detections: [detection, v, { detection: [{ ruleName: v }] }] };
  },
  grafana: (v) => ({
    receiver: v,
    status: v,
    orgId: v,
    state: v,
    title: v,
    message: v,
    groupKey: v,
    commonLabels: { alertname: v, severity: v, [v]: v },
    commonAnnotations: { summary: v, [v]: v },
    alerts: [
      {
        status: v,
        labels: { alertname: v, severity: v, category: v, grafana_folder: v, host: v, hostname: v, instance: v, [v]: v },
        annotations: { summary: v, runbook_url: v, [v]: v },
        startsAt: v,
        endsAt: v,
        fingerprint: v,
        values: { [v]: v },
        valueString: v,
        dashboardURL: v,
        panelURL: v,
        silenceURL: v,
      },
      { status: 'resolved', labels: { instance: v }, values: {}, startsAt: v, endsAt: v },
      v,
    ],
  }),
  ...Object.fromEntries(
    ['Create', 'Acknowledge', 'Close', 'AddNote'].map((action) => [
      `opsgenie ${action}`,
      (v: string) => ({
        action,
        integrationId: v,
        integrationName: v,
        source: { name: v, type: v },
        alert: { alertId: v, alias: v, tinyId: v, message: v, description: v, priority: v, entity: v, createdAt: v, updatedAt: v, details: { host: v, hostname: v, user: v, username: v, [v]: v }, tags: [v] },
      }),
    ]),
  ),
  'opsgenie, action too': (v) => ({ action: v, integrationId: v, alert: { alertId: v, message: v, priority: v } }),
  thehive: (v) => ({
    type: v,
    source: v,
    sourceRef: v,
    title: v,
    description: v,
    severity: v,
    date: v,
    tags: [v],
    observables: ['ip', 'domain', 'fqdn', 'url', 'mail', 'hash', 'hostname', 'user', v].map((dataType) => ({ dataType, data: v, message: v })),
  }),
  'thehive artifacts': (v) => ({ type: v, source: v, sourceRef: v, artifacts: [{ dataType: v, data: v }, v] }),
  'pagerduty, event_action too': (v) => ({ event_action: v, dedup_key: v, payload: { severity: v, summary: v } }),
  splunk: (v) => ({
    sid: v,
    search_name: v,
    trigger_time: v,
    app: v,
    owner: v,
    results_link: v,
    result: { severity: v, urgency: v, rule_title: v, rule_name: v, _time: v, category: v, host: v, dest: v, user: v, src_user: v, _raw: v, [v]: v },
  }),
  'splunk multivalue, urgency only': (v) => ({ sid: v, result: { urgency: [v, v], rule_name: [v], host: [v], user: [v], _time: [v] } }),
  'defender email alert': (v) => ({
    eventType: v,
    id: v,
    creationTime: v,
    severity: v,
    category: v,
    entityType: v,
    title: v,
    name: v,
    data: { sender: v, subject: v, recipients: [v], user: v, [v]: v },
  }),
  'defender graph alert': (v) => graphAlert(v, '#microsoft.graph.security.alert'),
  'defender graph alert, @odata.type too': (v) => ({ ...graphAlert(v, v), serviceSource: v }),
  'defender graph collection': (v) => ({ value: [graphAlert(v, '#microsoft.graph.security.alert'), { resourceData: graphAlert(v, '#microsoft.graph.security.alert') }, v, { [v]: v }] }),
  generic: (v) => ({
    event_type: v,
    timestamp: v,
    source: v,
    data: {
      alert_id: v,
      severity: v,
      title: v,
      summary: v,
      category: v,
      host: v,
      hostname: v,
      user: v,
      username: v,
      timestamp: v,
      details: { title: v, summary: v, category: v, host: v, hostname: v, user: v, username: v, [v]: v },
    },
  }),
  fallback: (v) => ({
    [v]: v,
    severity: v,
    level: v,
    priority: v,
    title: v,
    name: v,
    timestamp: v,
    category: v,
    host: v,
    user: v,
    Alert: { [v]: v, Severity: v, Name: v, Host: v, User: v },
  }),
  'fallback, text': (v) => v,
  'batch of texts': (v) => [v, [v], { [v]: v }],
};

function crowdstrike(eventType: string, v: string) {
  return {
    metadata: { eventType, eventCreationTime: v, offset: v, customerIDString: v, version: v },
    event: {
      CompositeId: v,
      DetectId: v,
      AggregateId: v,
      IncidentID: v,
      Severity: v,
      SeverityName: v,
      DetectName: v,
      Name: v,
      DetectDescription: v,
      Description: v,
      Tactic: v,
      Technique: v,
      Objective: v,
      HostnameField: v,
      ComputerName: v,
      Hostname: v,
      UserName: v,
      Timestamp: v,
      IOCType: v,
      IOCValue: v,
      SHA256String: v,
      LocalIP: v,
      CommandLine: v,
      ParentCommandLine: v,
      NetworkAccesses: [{ RemoteAddress: v }],
      DnsRequests: [{ DomainName: v }],
      QuarantineFiles: [{ SHA256HashData: v, MD5HashData: v }],
    },
  };
}

function graphAlert(v: string, odataType: string) {
  const evidence = (type: string, fields: Record<string, unknown>) => ({ '@odata.type': `#microsoft.graph.security.${type}`, ...fields });
  return {
    '@odata.type': odataType,
    id: v,
    title: v,
    severity: v,
    status: v,
    category: v,
    firstActivityDateTime: v,
    createdDateTime: v,
    evidence: [
      evidence('deviceEvidence', { deviceDnsName: v, hostName: v }),
      evidence('userEvidence', { userAccount: { userPrincipalName: v, accountName: v } }),
      evidence('mailboxEvidence', { primaryAddress: v, userAccount: { userPrincipalName: v } }),
      evidence('analyzedMessageEvidence', { senderIp: v, recipientEmailAddress: v, p1Sender: { emailAddress: v, domainName: v }, urls: [v] }),
      evidence('dnsEvidence', { domainName: v, hostIpAddress: { ipAddress: v }, ipAddresses: [v, { ipAddress: v }] }),
      evidence('processEvidence', { imageFile: { sha256: v }, processCommandLine: v }),
      { '@odata.type': v, [v]: v },
    ],
  };
}

describe('Object.prototype names in vendor payloads', () => {
  afterEach(expectPrototypeUntouched);

  it.each(Object.entries(MAPPED))('%s: every mapped field set to each name yields a valid alert with the source default', (_shape, build) => {
    for (const name of NAMES) {
      for (const format of ['auto', ...VENDOR_FORMATS] as const) {
        const where = `${format}, every field = ${name}`;
        const alerts = normalize(json(build(name)), format, ctx);
        expectValid(alerts, where);
        // No vendor scale knows these words, so each alert falls back to the source's default severity.
        for (const alert of alerts) expect(alert.severity, where).toBe(DEFAULT);
      }
    }
  });

  it.each(FIXTURES)('%s: each field of the fixture set to each name yields a valid alert', (fixture, payload) => {
    const paths = leafPaths(payload);
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) {
      for (const name of NAMES) {
        for (const format of new Set(['auto', formatOf(fixture)] as const)) {
          expectValid(normalize(withLeaf(payload, path, name), format, ctx), `${fixture} (${format}) ${path.join('.')} = ${name}`);
        }
      }
    }
  });

  it.each(FIXTURES)('%s: every object also keyed by every name normalizes as without them', (fixture, payload) => {
    for (const format of new Set(['auto', formatOf(fixture)] as const)) {
      const plain = normalize(json(payload), format, ctx);
      const keyedAlerts = normalize(withPrototypeKeys(payload), format, ctx);
      expectValid(keyedAlerts, `${fixture} (${format})`);
      const derived = (alert: NormalizedAlert) => alert.vendor_alert_id.startsWith('sha256:');
      // A derived id hashes the whole payload, extra keys included; every other field is unchanged.
      expect(keyedAlerts.map((a) => ({ ...a, vendor_alert_id: derived(a) || a.vendor_alert_id }))).toStrictEqual(
        plain.map((a) => ({ ...a, vendor_alert_id: derived(a) || a.vendor_alert_id })),
      );
    }
  });

  it('keeps a __proto__ key as data in derived ids, never as a prototype', () => {
    const one = JSON.parse('{"event": {"__proto__": {"id": 1}}}') as unknown;
    const two = JSON.parse('{"event": {"__proto__": {"id": 2}}}') as unknown;
    expect(derivedId(one)).not.toBe(derivedId(two));
    const cleaned = withoutSecrets(one) as { event: object };
    expect(Object.getPrototypeOf(cleaned.event)).toBe(Object.prototype);
    expect(Object.keys(cleaned.event)).toEqual(['__proto__']);
  });
});

describe('Object.prototype names in a severity_mapping', () => {
  afterEach(expectPrototypeUntouched);

  it('maps a vendor value only through an own key of the mapping', () => {
    for (const name of NAMES) {
      // Inherited members of an empty mapping are no mapping at all.
      expect(resolveSeverity({ ...ctx, severityMapping: {} }, severityFromAny, name)).toBe(DEFAULT);
      expect(resolveSeverity({ ...ctx, severityMapping: json({ [name]: 'critical' }) }, severityFromAny, name)).toBe('critical');
      // Names as values are not severities: the vendor's own mapping, then the default, applies.
      const asValues = json(keyed((n) => n)) as unknown as Record<string, 'high'>;
      expect(resolveSeverity({ ...ctx, severityMapping: asValues }, severityFromAny, name)).toBe(DEFAULT);
      expect(resolveSeverity({ ...ctx, severityMapping: json({ high: name }) as Record<string, 'high'> }, severityFromAny, 'high')).toBe('high');
    }
  });

  it('applies such a mapping to every vendor format and still yields valid alerts', () => {
    const mapping = json(keyed(() => 'critical')) as Record<string, 'critical'>;
    for (const [shape, build] of Object.entries(MAPPED)) {
      for (const name of NAMES) {
        const alerts = normalize(json(build(name)), 'auto', { ...ctx, severityMapping: mapping });
        expectValid(alerts, `${shape}, every field = ${name}, mapped`);
      }
    }
  });

  it('refuses names of Object.prototype as keys or values of a source severity_mapping', () => {
    expect(isSeverityMapping({ phish: 'high', '4': 'critical' })).toBe(true);
    for (const name of NAMES) {
      expect(isSeverityMapping(json({ [name]: 'high' })), `key ${name}`).toBe(false);
      expect(isSeverityMapping({ high: name }), `value ${name}`).toBe(false);
    }
  });
});
