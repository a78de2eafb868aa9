import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nowSeconds, postWebhook, vendorPayload } from '../fixtures/webhooks';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Vendor payloads (test/fixtures/vendors, shaped from each vendor's documentation and the seed) through the
 * whole path: signed HTTP, detection and normalization, dedup, incidents, and the incident API.
 */
describe('vendor payloads end to end', () => {
  let t: TestApp;
  const SECRET = 'vendor-secret-1';
  let timestamp = nowSeconds();
  /** Each post its own timestamp, so that a deliberate repeat is not taken for a replay. */
  const post = (source: string, payload: unknown) => postWebhook(t.url, source, SECRET, payload, { timestamp: ++timestamp });
  const incident = async (idOrNumber: string) => (await t.request('GET', `/api/incidents/${idOrNumber}`)).body;

  beforeAll(async () => {
    t = await startTestApp();
    for (const source of ['auto', 'am', 'pd', 'graph']) await t.request('POST', '/api/webhooks', { source, secret: SECRET });
    await t.request('POST', '/api/webhooks', { source: 'falcon', secret: SECRET, format: 'crowdstrike', severity_mapping: { '4': 'critical' } });
    await t.request('POST', '/api/webhooks', { source: 'strict-splunk', secret: SECRET, format: 'splunk' });
    timestamp = nowSeconds();
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['generic', { vendor: 'generic', vendor_alert_id: 'alert-123', severity: 'high', title: 'Credential phishing link delivered' }],
    ['defender-o365', { vendor: 'defender_o365', vendor_alert_id: 'AAMkAGI2TG93AAA=', severity: 'high', category: 'Phish', user: 'user@company.com' }],
    ['crowdstrike-detection', { vendor: 'crowdstrike', vendor_alert_id: 'ldt:abc123', severity: 'high', host: 'WORKSTATION-01', title: 'Malicious File Detected' }],
    ['crowdstrike-epp-detection', { vendor: 'crowdstrike', severity: 'critical', host: 'FIN-LT-0231', user: 'jdoe', category: 'Credential Access' }],
    ['splunk-alert', { vendor: 'splunk', title: 'Failed Login Alert', host: 'server-01', occurred_at: '2024-01-15T12:00:00.000Z' }],
    ['splunk-alert-with-sid', { vendor: 'splunk', vendor_alert_id: 'splunk:Brute force from one source:dc01.corp.example', severity: 'high', user: 'jdoe' }],
    ['pagerduty-trigger', { vendor: 'pagerduty', vendor_alert_id: 'ids/prod-web-03/ET-2027865', severity: 'critical', host: 'prod-web-03.example.com' }],
    ['unrecognised', { vendor: 'unknown', normalization: 'fallback', title: 'Impossible travel', severity: 'medium' }],
    ['sentinel-incident', { vendor: 'sentinel', vendor_alert_id: '7e1a4c2d-5b6f-4a3e-9c8d-1f2e3a4b5c6d', severity: 'high', host: 'FIN-LT-0231.corp.contoso.com', user: 'jdoe@contoso.com' }],
    ['elastic-detection', { vendor: 'elastic', title: 'Suspicious PowerShell Encoded Command', severity: 'high', host: 'WS-0412', user: 'jdoe', category: 'Execution' }],
    ['chronicle-detection', { vendor: 'chronicle', title: 'dns_query_to_newly_seen_domain', severity: 'medium', host: 'ray-xxx-laptop', user: 'ray' }],
    ['grafana-firing', { vendor: 'grafana', vendor_alert_id: 'c6eadffa33fcdf37', severity: 'critical', host: 'bastion-02', occurred_at: '2024-01-15T08:00:03.157Z' }],
    ['opsgenie-create', { vendor: 'opsgenie', vendor_alert_id: 'edr/FS-02/ransomware', severity: 'critical', host: 'FS-02', user: 'svc-backup' }],
    ['thehive-alert', { vendor: 'thehive', vendor_alert_id: 'phishing:mail-filter:MSG-2024-000871', severity: 'high', host: 'mx-in-02', category: 'phishing' }],
  ])('detects and normalizes %s', async (fixture, expected) => {
    const answer = await post('auto', vendorPayload(fixture));
    expect(answer).toMatchObject({ status: 202, body: { status: 'accepted', incident_number: expect.stringMatching(/^INC-\d{4}-\d{4}$/) } });
    const found = await incident(answer.body.incident_number);
    expect(found).toMatchObject({ id: answer.body.incident_id, source: 'auto', status: 'open', alert_count: 1 });
    expect(found.alerts).toHaveLength(1);
    expect(found.alerts[0]).toMatchObject({ ...expected, action: 'trigger', index: 0 });
    expect(found.title).toBe(found.alerts[0].title);
  });

  it("collects indicators from the payload into the alert's normalized fields", async () => {
    const answer = await post('auto', vendorPayload('generic'));
    const found = await incident(answer.body.incident_id);
    expect(found.alerts.at(-1).indicators).toMatchObject({
      emails: expect.arrayContaining(['phisher@malicious.com']),
      urls: ['https://login.evil.example/office365'],
    });
  });

  it("applies the source's format and severity mapping", async () => {
    const mapped = await post('falcon', vendorPayload('crowdstrike-detection'));
    expect((await incident(mapped.body.incident_id)).alerts[0]).toMatchObject({ severity: 'critical', raw_severity: '4' });
    // A payload that does not fit the configured format is still kept, as a fallback alert.
    const misfit = await post('strict-splunk', vendorPayload('crowdstrike-detection'));
    expect((await incident(misfit.body.incident_id)).alerts[0]).toMatchObject({ vendor: 'unknown', normalization: 'fallback' });
  });

  it('attaches repeats to the open incident, raising its severity and last-seen time', async () => {
    const payload = { event_type: 'security_alert', data: { alert_id: 'dedup-1', severity: 'low' } };
    const first = await post('auto', payload);
    const second = await post('auto', { ...payload, data: { ...payload.data, severity: 'critical' } });
    expect(second.body).toEqual(first.body);
    const found = await incident(first.body.incident_id);
    expect(found).toMatchObject({ alert_count: 2, severity: 'critical', status: 'open' });
    expect(found.alerts.map((a: { severity: string }) => a.severity)).toEqual(['low', 'critical']);
    expect(found.last_seen_at >= found.opened_at).toBe(true);
    // Same vendor id from another source is another incident.
    await t.request('POST', '/api/webhooks', { source: 'other-sender', secret: SECRET });
    const elsewhere = await post('other-sender', payload);
    expect(elsewhere.body.incident_id).not.toBe(first.body.incident_id);
  });

  it('splits an Alertmanager group into one incident per alert and lists them all in the answer', async () => {
    const fired = await post('am', vendorPayload('alertmanager-firing'));
    expect(fired.status).toBe(202);
    expect(fired.body).toEqual({
      status: 'accepted',
      incident_id: fired.body.incidents[0].incident_id,
      incident_number: fired.body.incidents[0].incident_number,
      incidents: [
        { index: 0, vendor_alert_id: 'a1b2c3d4e5f60718', action: 'trigger', result: 'opened', incident_id: expect.any(String), incident_number: expect.any(String) },
        { index: 1, vendor_alert_id: 'b2c3d4e5f6071829', action: 'trigger', result: 'opened', incident_id: expect.any(String), incident_number: expect.any(String) },
      ],
    });
    const [first, second] = fired.body.incidents;
    expect(Number(second.incident_number.slice(9))).toBe(Number(first.incident_number.slice(9)) + 1);
    expect(await incident(first.incident_id)).toMatchObject({ severity: 'critical', title: 'SSH brute force on 10.0.0.5' });
    expect((await incident(second.incident_id)).alerts[0]).toMatchObject({ host: 'bastion-01', severity: 'medium' });

    // The resolved notification resolves the first one only, and opens nothing.
    const resolved = await post('am', vendorPayload('alertmanager-resolved'));
    expect(resolved.body).toEqual({ status: 'accepted', incident_id: first.incident_id, incident_number: first.incident_number });
    // The resolved item is recorded on the incident, but it is no new alert.
    expect(await incident(first.incident_id)).toMatchObject({ status: 'resolved', resolved_at: expect.any(String), alert_count: 1 });
    expect((await incident(second.incident_id)).status).toBe('open');

    // Firing again after the resolution: a regression, on the same incident and number.
    const refired = await post('am', vendorPayload('alertmanager-firing'));
    expect(refired.body.incidents.map((i: { result: string }) => i.result)).toEqual(['reopened', 'attached']);
    expect(refired.body.incident_number).toBe(first.incident_number);
    expect(await incident(first.incident_id)).toMatchObject({ status: 'open', regression_count: 1, reopened_at: expect.any(String), alert_count: 2 });
  });

  it('follows PagerDuty trigger, acknowledge and resolve by dedup_key', async () => {
    const triggered = await post('pd', vendorPayload('pagerduty-trigger'));
    const acknowledged = await post('pd', vendorPayload('pagerduty-acknowledge'));
    expect(acknowledged.body).toEqual(triggered.body);
    const resolved = await post('pd', vendorPayload('pagerduty-resolve'));
    expect(resolved.body).toEqual(triggered.body);
    const found = await incident(triggered.body.incident_id);
    // Acknowledge and resolve messages are on the incident's timeline, but they are not alerts.
    expect(found).toMatchObject({ status: 'resolved', alert_count: 1 });
    expect(found.alerts.map((a: { action: string }) => a.action)).toEqual(['trigger', 'acknowledge', 'resolve']);
    // A second resolve changes nothing, and still names the incident.
    expect((await post('pd', vendorPayload('pagerduty-resolve'))).body).toEqual(triggered.body);
    expect((await incident(triggered.body.incident_id)).alert_count).toBe(1);
    // The routing key, PagerDuty's credential for the sender, is nowhere in the normalized fields.
    expect(JSON.stringify(found)).not.toContain('e93facc04764012d7bfb002500d5d1a6');
  });

  it.each([
    ['sentinel', 'sentinel-incident', ['sentinel-incident-closed'], 'resolved'],
    ['grafana', 'grafana-firing', ['grafana-resolved'], 'resolved'],
    ['opsgenie', 'opsgenie-create', ['opsgenie-acknowledge', 'opsgenie-close'], 'resolved'],
    ['opsgenie', 'opsgenie-create', ['opsgenie-acknowledge'], 'acknowledged'],
  ])('follows %s from %s through %j to %s, counting one alert', async (vendor, opening, followUps, status) => {
    const source = `life-${vendor}-${followUps.length}`;
    await t.request('POST', '/api/webhooks', { source, secret: SECRET });
    const opened = await post(source, vendorPayload(opening));
    expect(opened.body).toMatchObject({ status: 'accepted', incident_number: expect.any(String) });
    for (const followUp of followUps) expect((await post(source, vendorPayload(followUp))).body.incident_id).toBe(opened.body.incident_id);
    const found = await incident(opened.body.incident_id);
    expect(found).toMatchObject({ status, alert_count: 1 });
    expect(found.alerts).toHaveLength(1 + followUps.length);
  });

  it.each([
    ['sentinel', 'sentinel-incident'],
    ['elastic', 'elastic-detection'],
    ['chronicle', 'chronicle-detection'],
    ['grafana', 'grafana-firing'],
    ['opsgenie', 'opsgenie-create'],
    ['thehive', 'thehive-alert'],
  ])('takes %s when the source names the format, and falls back on a payload of another vendor', async (format, fixture) => {
    const source = `named-${format}`;
    await t.request('POST', '/api/webhooks', { source, secret: SECRET, format });
    const fitted = await post(source, vendorPayload(fixture));
    expect((await incident(fitted.body.incident_id)).alerts[0]).toMatchObject({ vendor: format, normalization: 'vendor' });
    const misfit = await post(source, vendorPayload('crowdstrike-detection'));
    expect((await incident(misfit.body.incident_id)).alerts[0]).toMatchObject({ vendor: 'unknown', normalization: 'fallback' });
  });

  it('dedups a TheHive-style alert by type, source and sourceRef', async () => {
    await t.request('POST', '/api/webhooks', { source: 'hive-dedup', secret: SECRET });
    const first = await post('hive-dedup', vendorPayload('thehive-alert'));
    const again = await post('hive-dedup', { ...vendorPayload('thehive-alert'), title: 'Reported again', severity: 4 });
    const other = await post('hive-dedup', { ...vendorPayload('thehive-alert'), sourceRef: 'MSG-2024-000872' });
    expect(again.body.incident_id).toBe(first.body.incident_id);
    expect(other.body.incident_id).not.toBe(first.body.incident_id);
    expect(await incident(first.body.incident_id)).toMatchObject({ alert_count: 2, severity: 'critical' });
  });

  it('dedups Splunk by saved search and host although every run has a new sid', async () => {
    await t.request('POST', '/api/webhooks', { source: 'splunk-dedup', secret: SECRET });
    const run = (sid: string, host: string) => ({ ...vendorPayload('splunk-alert-with-sid'), sid, result: { ...vendorPayload('splunk-alert-with-sid').result, host } });
    const first = await post('splunk-dedup', run('scheduler__admin__search__RMD5aa_at_1705320000_1', 'dc01.corp.example'));
    const second = await post('splunk-dedup', run('scheduler__admin__search__RMD5aa_at_1705320300_2', 'dc01.corp.example'));
    const elsewhere = await post('splunk-dedup', run('scheduler__admin__search__RMD5aa_at_1705320300_2', 'dc02.corp.example'));
    expect(second.body.incident_id).toBe(first.body.incident_id);
    expect(elsewhere.body.incident_id).not.toBe(first.body.incident_id);
    expect(await incident(first.body.incident_id)).toMatchObject({ alert_count: 2, vendor_alert_id: 'splunk:Brute force from one source:dc01.corp.example' });
  });

  it('dedups Splunk by the result field a source names instead of the host, set and cleared through the API', async () => {
    const created = await t.request('POST', '/api/webhooks', { source: 'splunk-by-user', secret: SECRET, dedup_field: 'user' });
    expect(created).toMatchObject({ status: 201, body: { dedup_field: 'user' } });
    const run = (sid: string, host: string, user: string) => ({
      ...vendorPayload('splunk-alert-with-sid'),
      sid,
      result: { ...vendorPayload('splunk-alert-with-sid').result, host, user },
    });
    const first = await post('splunk-by-user', run('scheduler__admin__search__RMD5bb_at_1705320000_1', 'dc01.corp.example', 'jdoe'));
    // Another host, the same user: the same incident. Another user: another.
    const sameUser = await post('splunk-by-user', run('scheduler__admin__search__RMD5bb_at_1705320300_2', 'dc02.corp.example', 'jdoe'));
    const otherUser = await post('splunk-by-user', run('scheduler__admin__search__RMD5bb_at_1705320600_3', 'dc01.corp.example', 'asmith'));
    expect(sameUser.body.incident_id).toBe(first.body.incident_id);
    expect(otherUser.body.incident_id).not.toBe(first.body.incident_id);
    expect(await incident(first.body.incident_id)).toMatchObject({ vendor_alert_id: 'splunk:Brute force from one source:jdoe', alert_count: 2 });

    for (const bad of ['', 'a b', 'x'.repeat(101), 42]) {
      expect((await t.request('PATCH', '/api/webhooks/splunk-by-user', { dedup_field: bad })).body.error.code, String(bad)).toBe('invalid_request');
    }
    expect((await t.request('PATCH', '/api/webhooks/splunk-by-user', { dedup_field: null })).body).toMatchObject({ dedup_field: null });
    const byHost = await post('splunk-by-user', run('scheduler__admin__search__RMD5bb_at_1705320900_4', 'dc01.corp.example', 'jdoe'));
    expect(await incident(byHost.body.incident_id)).toMatchObject({ vendor_alert_id: 'splunk:Brute force from one source:dc01.corp.example' });
  });

  it('dedups Elastic and Chronicle repeats, which come with new alert and detection ids, by rule and match', async () => {
    await t.request('POST', '/api/webhooks', { source: 'siem-dedup', secret: SECRET });
    const elastic = vendorPayload('elastic-detection');
    const first = await post('siem-dedup', elastic);
    elastic.alerts[0]['kibana.alert.uuid'] = 'f'.repeat(64);
    expect((await post('siem-dedup', elastic)).body.incident_id).toBe(first.body.incident_id);
    const chronicle = vendorPayload('chronicle-detection');
    const detection = await post('siem-dedup', chronicle);
    expect((await post('siem-dedup', { ...chronicle, id: 'de_next' })).body.incident_id).toBe(detection.body.incident_id);
    expect((await incident(detection.body.incident_id)).alert_count).toBe(2);
  });

  it('answers a resolve that matches no incident with null ids, and opens nothing', async () => {
    const before = (await t.request('GET', '/api/incidents?limit=500')).body.length;
    const stray = await post('pd', { ...vendorPayload('pagerduty-resolve'), dedup_key: 'never-triggered' });
    expect(stray).toEqual({
      status: 202,
      body: { status: 'accepted', incident_id: null, incident_number: null, message: 'No open incident matched this alert, so none was changed' },
    });
    expect((await t.request('GET', '/api/incidents?limit=500')).body.length).toBe(before);
  });

  it('takes an Object.prototype name as a severity like any unknown word, and keeps serving everyone after it', async () => {
    const names = Object.getOwnPropertyNames(Object.prototype);
    for (const [i, name] of names.entries()) {
      const answer = await post('auto', { event_type: 'security_alert', data: { alert_id: `proto-${i}`, severity: name, title: name } });
      expect(answer, name).toMatchObject({ status: 202, body: { status: 'accepted', incident_number: expect.any(String) } });
      const found = await incident(answer.body.incident_id);
      // Not a word any scale knows: the source default, and the vendor's text kept as raw_severity.
      expect(found, name).toMatchObject({ status: 'open', severity: 'medium', title: name });
      expect(found.alerts[0], name).toMatchObject({ severity: 'medium', raw_severity: name });
    }
    const splunk = await post('strict-splunk', { sid: 'proto-splunk', search_name: 'Odd severities', result: { severity: 'toString', urgency: 'valueOf' } });
    expect((await incident(splunk.body.incident_id)).alerts[0]).toMatchObject({ vendor: 'splunk', severity: 'medium', raw_severity: 'toString' });

    // The next alert, from another organisation, still opens its incident there and is listed.
    const org = await t.request('POST', '/api/organisations', { name: 'After The Odd Severities' });
    await t.request('POST', '/api/webhooks', { source: 'after-proto', secret: SECRET, organisation_id: org.body.id });
    const next = await post('after-proto', vendorPayload('generic'));
    expect(next).toMatchObject({ status: 202, body: { status: 'accepted', incident_number: expect.any(String) } });
    const opened = await incident(`${next.body.incident_id}?organisation_id=${org.body.id}`);
    expect(opened).toMatchObject({ organisation_id: org.body.id, severity: 'high', status: 'open', alert_count: 1 });
    const listed = await t.request('GET', `/api/incidents?organisation_id=${org.body.id}`);
    expect(listed.body.items.map((i: { id: string }) => i.id)).toEqual([next.body.incident_id]);
  });

  it('refuses a severity_mapping keyed or valued by an Object.prototype name with a 400', async () => {
    for (const name of Object.getOwnPropertyNames(Object.prototype)) {
      for (const mapping of [{ [name]: 'high' }, { high: name }]) {
        const refused = await t.request('POST', '/api/webhooks', { source: 'proto-mapping', secret: SECRET, severity_mapping: mapping });
        expect(refused, `${name}: ${JSON.stringify(mapping)}`).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
        const patched = await t.request('PATCH', '/api/webhooks/auto', { severity_mapping: mapping });
        expect(patched.status, `PATCH ${JSON.stringify(mapping)}`).toBe(400);
      }
    }
    expect((await t.request('GET', '/api/webhooks/proto-mapping')).status).toBe(404);
    expect((await t.request('GET', '/api/webhooks/auto')).body.severity_mapping).toEqual({});
  });

  it('takes each alert of a Microsoft Graph collection', async () => {
    const answer = await post('graph', vendorPayload('defender-graph-collection'));
    expect(answer.body.incidents).toHaveLength(2);
    const [endpoint, office] = await Promise.all(answer.body.incidents.map((i: { incident_id: string }) => incident(i.incident_id)));
    expect(endpoint.alerts[0]).toMatchObject({ vendor: 'defender_o365', severity: 'medium', host: 'tempmachine1.contoso.com', category: 'DefenseEvasion' });
    expect(office.alerts[0]).toMatchObject({ severity: 'high', user: 'user@company.com', indicators: expect.objectContaining({ ips: ['203.0.113.25'] }) });
  });
});
