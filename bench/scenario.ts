import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small real scenario driven through a running Towline over loopback HTTP, as the end-to-end suites drive
 * it: organisations with a project, three sources (two auto-triaged) and three outbound webhooks, then, in
 * one organisation, signed alerts (a phishing campaign, repeated EDR detections, a duplicate), an incident
 * lifecycle with a failed verification, a closure and a reopening, a published security event and a
 * monitoring pause — and deliveries that succeed, succeed on a retry, and fail for good. Its events are the
 * template the replay benchmark multiplies (replay-store.ts).
 *
 * Bump TEMPLATE_VERSION whenever what this file does changes: cached stores are keyed by it.
 */
export const TEMPLATE_VERSION = 1;

export const ADMIN_KEY = `tw_${'b'.repeat(43)}`;
export const SOURCE_SECRET = 'bench-secret-0123456789';

/** What generating the store needs besides a plain app: loopback receivers, plain http, quick retries. */
export const SCENARIO_ENV: Record<string, string> = {
  TW_WEBHOOK_ALLOW_CIDRS: '127.0.0.0/8',
  TW_ALLOW_INSECURE_WEBHOOKS: 'true',
  TW_DELIVERY_RETRY_SCHEDULE: '200ms,400ms,800ms',
  TW_DELIVERY_RETRY_JITTER: 'none',
  TW_DELIVERY_TIMEOUT: '3s',
  // The dead-letter webhook fails on purpose; a tripped breaker would only make the scenario wait.
  TW_DELIVERY_BREAKER_THRESHOLD: '1000',
};

/**
 * Source names are unique per instance, so each organisation has its own; the `tpl-…-oNNN` spelling is what
 * the replay rewrites into another organisation's names (three digits: up to 1000 organisations).
 */
export const sourceName = (kind: 'mail' | 'edr' | 'siem', organisation: number) => `tpl-${kind}-o${String(organisation).padStart(3, '0')}`;
export const SOURCE_NAME = /tpl-(mail|edr|siem)-o(\d{3})/;

export interface OrganisationSetup {
  index: number;
  id: string;
  projectId: string;
  /** In creation order: all events, flaky (first attempt 503), dead letter (always 500). */
  webhookIds: string[];
}

export interface Api {
  url: string;
  call(method: string, path: string, body?: unknown): Promise<any>;
}

export function api(url: string, key = ADMIN_KEY): Api {
  return {
    url,
    async call(method, path, body) {
      const response = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (response.status >= 300) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    },
  };
}

/** The seed's inbound signature: sha256=hex(HMAC-SHA256(secret, "<unix seconds>.<body>")). */
export function signedHeaders(body: string, secret = SOURCE_SECRET): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  return {
    'content-type': 'application/json',
    'x-webhook-timestamp': timestamp,
    'x-webhook-signature': `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`,
  };
}

async function postAlert(url: string, source: string, payload: unknown): Promise<{ incident_id: string }> {
  const body = JSON.stringify(payload);
  const response = await fetch(`${url}/api/webhooks/${source}`, { method: 'POST', headers: signedHeaders(body), body });
  const text = await response.text();
  if (response.status !== 202) throw new Error(`POST /api/webhooks/${source}: HTTP ${response.status} ${text}`);
  return JSON.parse(text);
}

export interface Receivers {
  /** Answers 200. */
  ok: string;
  /** Answers 503 to the first attempt of each delivery, 200 to the next: a retry that succeeds. */
  flaky: string;
  /** Always 500: retries run out and the delivery is dead-lettered. */
  broken: string;
  close(): Promise<void>;
}

/** Plain node:http receivers on 127.0.0.1: the other side of the wire, none of Towline's code. */
export async function startReceivers(): Promise<Receivers> {
  const seen = new Set<string>();
  const servers: Server[] = [];
  const start = async (status: (delivery: string) => number) => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(status(String(req.headers['x-towline-delivery'] ?? '')), { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  };
  return {
    ok: await start(() => 200),
    flaky: await start((delivery) => (seen.has(delivery) ? 200 : (seen.add(delivery), 503))),
    broken: await start(() => 500),
    close: async () => {
      await Promise.all(servers.map((s) => (s.closeAllConnections(), new Promise<void>((resolve) => s.close(() => resolve())))));
    },
  };
}

/** An organisation as an administrator sets one up: project, API key, three sources, three webhooks. */
export async function setUpOrganisation(a: Api, index: number, receivers: Receivers): Promise<OrganisationSetup> {
  const organisation = await a.call('POST', '/api/organisations', { name: `bench-org-${index}` });
  const project = await a.call('POST', `/api/organisations/${organisation.id}/projects`, { name: 'payments-api' });
  await a.call('POST', `/api/organisations/${organisation.id}/api-keys`, { name: 'siem-forwarder', scopes: ['read'] });
  const register = (kind: 'mail' | 'edr' | 'siem', settings: Record<string, unknown>) =>
    a.call('POST', '/api/webhooks', { source: sourceName(kind, index), secret: SOURCE_SECRET, organisation_id: organisation.id, ...settings });
  await register('mail', { auto_triage: true, playbook: 'phishing_triage' });
  await register('edr', { auto_triage: true, playbook: 'malware_triage' });
  await register('siem', { project_id: project.id });
  const webhookIds: string[] = [];
  for (const body of [
    { url: receivers.ok },
    { url: receivers.flaky, event_types: ['finding.created', 'finding.acknowledged'] },
    { url: receivers.broken, event_types: ['finding.resolution_verified'] },
  ]) {
    webhookIds.push((await a.call('POST', `/api/organisations/${organisation.id}/webhooks`, body)).id);
  }
  return { index, id: organisation.id, projectId: project.id, webhookIds };
}

const phishing = (sender: string, subject: string, recipient: string) => ({
  eventType: 'PhishingEmail',
  id: `AAMk${randomUUID()}`,
  creationTime: new Date().toISOString(),
  severity: 'high',
  category: 'Phish',
  entityType: 'Email',
  data: { sender, subject, recipients: [recipient], urls: [`https://${sender.split('@')[1]}/login`] },
});

const detection = (host: string, id = `ldt:${randomUUID()}`) => ({
  metadata: { eventType: 'DetectionSummaryEvent', eventCreationTime: Date.now() },
  event: { DetectId: id, Severity: 4, HostnameField: host, DetectName: 'Malicious File Detected', SHA256String: 'a'.repeat(64) },
});

// Vendor alert ids carry a uuid, so that every copy of the template is a distinct alert to deduplication.
const siemAlert = (severity: string, title: string) => ({
  event_type: 'security_alert',
  timestamp: new Date().toISOString(),
  data: { alert_id: `siem-${randomUUID()}`, severity, title, details: { rule: 'bench' } },
});

/** Alerts, triage, lifecycle, producer events and deliveries in one organisation. */
export async function runActivity(a: Api, org: OrganisationSetup): Promise<void> {
  const mail = sourceName('mail', org.index);
  const edr = sourceName('edr', org.index);
  const siem = sourceName('siem', org.index);

  for (const recipient of ['ana@company.com', 'bo@company.com', 'cy@company.com']) {
    await postAlert(a.url, mail, phishing('billing@paypa1.example', 'Your invoice is overdue', recipient));
  }
  await postAlert(a.url, mail, phishing('it-support@evil.example', 'Password expires today', 'dee@company.com'));
  await postAlert(a.url, mail, phishing('news@company.com', 'Weekly digest', 'eve@company.com'));

  const repeated = detection('WS-9');
  for (const payload of [detection('DC-01'), repeated, detection('WS-9'), repeated]) await postAlert(a.url, edr, payload);

  const incidents: string[] = [];
  for (const [severity, title] of [
    ['critical', 'SQL injection in /login'],
    ['high', 'Impossible travel for admin'],
    ['medium', 'Port scan from 203.0.113.7'],
    ['low', 'TLS certificate expires in 20 days'],
    ['critical', 'Ransomware note found on FS-2'],
  ]) {
    incidents.push((await postAlert(a.url, siem, siemAlert(severity, title))).incident_id);
  }
  // Commands find incidents through the read side, which follows the store a moment behind the answer.
  // The admin key works in the default organisation unless told another.
  const inOrg = `?organisation_id=${org.id}`;
  for (const incident of incidents) await visible(a, `/api/incidents/${incident}${inOrg}`);
  const step = (incident: string, path: string, body?: unknown) => a.call('POST', `/api/incidents/${incident}/${path}${inOrg}`, body);
  await step(incidents[0], 'assign', { assignee: 'alice@example.com' });
  await step(incidents[0], 'acknowledge');
  await step(incidents[0], 'resolve', { resolution: 'remediated', note: 'patched' });
  await step(incidents[0], 'verify', { passed: false, note: 'still injectable' });
  await step(incidents[0], 'resolve', { resolution: 'remediated', note: 'patched again' });
  await step(incidents[0], 'verify', { passed: true });
  await step(incidents[1], 'acknowledge');
  await step(incidents[1], 'close', { reason: 'false_positive' });
  await step(incidents[1], 'reopen', { note: 'it was not' });
  await step(incidents[2], 'close', { reason: 'duplicate' });
  await step(incidents[4], 'assign', { assignee: 'ir-oncall' });

  await a.call('POST', `/api/organisations/${org.id}/events`, {
    event_type: 'finding.created',
    project_id: org.projectId,
    data: { finding_id: `f-${randomUUID()}`, title: 'Prompt injection via system override', severity: 'critical', category: 'prompt_injection', owasp_category: 'LLM01' },
  });
  await a.call('POST', `/api/organisations/${org.id}/projects/${org.projectId}/monitoring/pause`, { reason: 'maintenance window' });
  await a.call('POST', `/api/organisations/${org.id}/projects/${org.projectId}/monitoring/resume`, {});
}

async function visible(a: Api, path: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const response = await fetch(a.url + path, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    await response.arrayBuffer();
    if (response.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${path} did not become visible within 5 s`);
}

/** Every delivery of the organisation has ended (succeeded, or failed for good): nothing is left to retry. */
export async function deliveriesSettled(a: Api, org: OrganisationSetup): Promise<boolean> {
  for (const webhook of org.webhookIds) {
    const { items } = await a.call('GET', `/api/organisations/${org.id}/webhooks/${webhook}/deliveries?limit=500`);
    if ((items as { status: string }[]).some((d) => d.status !== 'succeeded' && d.status !== 'failed')) return false;
  }
  return true;
}
