import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECEIVER_ENV, startReceiver, type Receiver } from '../support/receiver';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';

/**
 * Issue #11, point 4: an integrator's whole scenario through a client generated from the COMMITTED document.
 * The types come from `openapi-typescript openapi/openapi.yaml` (the command docs/api.md gives), the program
 * below imports only them, `openapi-fetch` and node:crypto — no hand-written types, no `any`, no casts — and is
 * type-checked with the project's TypeScript in strict mode, compiled, and run as its own Node process
 * against a real server. A document that is over-strict (a defaulted field required, an optional body
 * required) fails the type-check; one that lies about a response fails the program or the assertions.
 */

const root = join(__dirname, '..', '..');
const run = promisify(execFile);
/** Node 24 (the pinned devDependency runs vitest), for the CLI and the compiled program alike. */
const node = process.execPath;

const SOURCE = 'email-gateway';
const SOURCE_SECRET = 'generated-client-source-secret';

/**
 * The integrator's program. argv: base URL, the instance admin key (used once, to create the organisation
 * and its key), the receiver's URL. It prints one JSON object of what it saw; the test judges it.
 */
const SCENARIO = String.raw`
import { createHmac } from 'node:crypto';
import createClient from 'openapi-fetch';
import type { paths } from './towline.js';

const [baseUrl, adminKey, receiverUrl] = process.argv.slice(2);

/** openapi-fetch answers {data} or {error}: the data, or a failure naming the step and what the server said. */
function ok<T>(step: string, answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.data === undefined) throw new Error(step + ': ' + answer.response.status + ' ' + JSON.stringify(answer.error));
  return answer.data;
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The instance admin creates the organisation and a key for it; everything after uses that key only.
const admin = createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + adminKey } });
const organisation = ok('create organisation', await admin.POST('/api/organisations', { body: { name: 'Generated Client Co' } }));
const orgId = organisation.id;
const key = ok(
  'create API key',
  await admin.POST('/api/organisations/{orgId}/api-keys', {
    params: { path: { orgId } },
    // An organisation admin key: creating a project takes 'admin'; it holds every other scope of its organisation.
    body: { name: 'integrator', scopes: ['admin'] },
  }),
);
const client = createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + key.key } });

const project = ok('create project', await client.POST('/api/organisations/{orgId}/projects', { params: { path: { orgId } }, body: { name: 'payments-api' } }));

// Outbound first, so the incident's first security event already has somewhere to go. No secret given:
// Towline generates one and shows it in this answer only.
const webhook = ok(
  'create outbound webhook',
  await client.POST('/api/organisations/{orgId}/webhooks', {
    params: { path: { orgId } },
    body: {
      url: receiverUrl + '/towline',
      event_types: ['finding.created', 'finding.assigned', 'finding.acknowledged', 'finding.resolution_verified'],
      project_ids: [project.id],
    },
  }),
);

const source = ok('register source', await client.POST('/api/webhooks', { body: { source: '${SOURCE}', secret: '${SOURCE_SECRET}', project_id: project.id } }));

// The sending tool has no API key: its requests are signed as the seed says,
// sha256=hex(HMAC-SHA256(secret, "<timestamp>.<raw body>")), and the exact signed bytes are sent.
const sender = createClient<paths>({ baseUrl });
const alert = {
  event_type: 'security_alert',
  timestamp: new Date().toISOString(),
  source: '${SOURCE}',
  data: { alert_id: 'alert-123', severity: 'high', title: 'Phishing mail reported', details: { sender: 'phisher@paypa1.com' } },
};
const body = JSON.stringify(alert);
const timestamp = String(Math.floor(Date.now() / 1000));
const signature = 'sha256=' + createHmac('sha256', '${SOURCE_SECRET}').update(timestamp + '.' + body).digest('hex');
const received = ok(
  'send signed alert',
  await sender.POST('/api/webhooks/{source}', {
    params: { path: { source: source.source }, header: { 'X-Webhook-Timestamp': timestamp, 'X-Webhook-Signature': signature } },
    body: alert,
    bodySerializer: () => body,
  }),
);
if (received.status !== 'accepted' || received.incident_id === null || received.incident_number === null) {
  throw new Error('the alert opened no incident: ' + JSON.stringify(received));
}

const page = ok('list incidents', await client.GET('/api/incidents', { params: { query: { source: source.source } } }));
const listed = page.items.find((incident) => incident.id === received.incident_id);
if (!listed) throw new Error('the new incident is not listed');
const incident = { path: { incident: received.incident_number } };
const opened = ok('get incident', await client.GET('/api/incidents/{incident}', { params: incident }));

// The whole lifecycle the API offers; every answer is the incident as it now stands.
const statuses: string[] = [opened.status];
const step = (detail: { status: string }) => statuses.push(detail.status);
step(ok('assign', await client.POST('/api/incidents/{incident}/assign', { params: incident, body: { assignee: 'soc-tier2' } })));
step(ok('acknowledge', await client.POST('/api/incidents/{incident}/acknowledge', { params: incident })));
step(ok('resolve', await client.POST('/api/incidents/{incident}/resolve', { params: incident, body: { resolution: 'remediated', note: 'mail purged' } })));
step(ok('close', await client.POST('/api/incidents/{incident}/close', { params: incident, body: { reason: 'benign', note: 'a phishing drill' } })));
step(ok('reopen', await client.POST('/api/incidents/{incident}/reopen', { params: incident })));
step(ok('resolve again', await client.POST('/api/incidents/{incident}/resolve', { params: incident, body: { resolution: 'mitigated' } })));
const verified = ok('verify', await client.POST('/api/incidents/{incident}/verify', { params: incident, body: { passed: true } }));
step(verified);

// A refusal is typed too: the error envelope with its stable code.
const refused = await client.POST('/api/incidents/{incident}/acknowledge', { params: incident });
const missing = await client.GET('/api/incidents/{incident}', { params: { path: { incident: 'INC-1999-9999' } } });

// The security events reach the receiver; their deliveries are listed once all of them succeeded.
const expectedDeliveries = 4;
const deliveryPath = { path: { orgId, id: webhook.id } };
let deliveries = ok('list deliveries', await client.GET('/api/organisations/{orgId}/webhooks/{id}/deliveries', { params: deliveryPath }));
for (let attempt = 0; attempt < 200; attempt++) {
  if (deliveries.items.filter((d) => d.status === 'succeeded').length >= expectedDeliveries) break;
  await sleep(50);
  deliveries = ok('list deliveries', await client.GET('/api/organisations/{orgId}/webhooks/{id}/deliveries', { params: deliveryPath }));
}
const first = deliveries.items[deliveries.items.length - 1];
const delivery = ok(
  'get delivery',
  await client.GET('/api/organisations/{orgId}/deliveries/{deliveryId}', { params: { path: { orgId, deliveryId: first.id } } }),
);

// The audit: the incident's stream at once (200), everything the key may read as a job (202, then polled).
const streamCheck = ok('verify incident stream', await client.POST('/api/audit/verify', { body: { stream: 'incident-' + verified.id } }));
if (!('streams_checked' in streamCheck)) throw new Error('verifying one stream answered a job');
const started = ok('verify everything', await client.POST('/api/audit/verify', { body: { all: true } }));
if (!('state' in started)) throw new Error('verifying everything answered at once');
let job = started;
for (let attempt = 0; attempt < 200 && job.state === 'running'; attempt++) {
  await sleep(50);
  job = ok('poll verification', await client.GET('/api/audit/verify/{id}', { params: { path: { id: started.id } } }));
}

console.log(
  JSON.stringify({
    organisation: { id: orgId, name: organisation.name },
    key: { id: key.id, scopes: key.scopes },
    project: project.id,
    webhook: { id: webhook.id, secret: webhook.secret ?? null, event_types: webhook.event_types },
    source: { source: source.source, organisation_id: source.organisation_id, project_id: source.project_id },
    received,
    listed: { id: listed.id, number: listed.number, status: listed.status, severity: listed.severity },
    statuses,
    assignee: verified.assignee,
    actors: verified.timeline.map((entry) => entry.actor),
    refused: { status: refused.response.status, code: refused.error?.error.code ?? null },
    missing: { status: missing.response.status, code: missing.error?.error.code ?? null },
    deliveries: deliveries.items.map((d) => ({ id: d.id, event_type: d.event_type, status: d.status, attempts: d.attempts })),
    delivery: { id: delivery.id, status: delivery.status, last_status_code: delivery.last_status_code },
    stream_verification: { ok: streamCheck.ok, streams_checked: streamCheck.streams_checked, events_checked: streamCheck.events_checked },
    all_verification: { state: job.state, result: job.result },
  }),
);
`;

describe('a client generated from the committed document (openapi-typescript + openapi-fetch)', () => {
  let t: TestApp;
  let receiver: Receiver;
  let dir: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestApp({ env: RECEIVER_ENV });
    // Inside the checkout (gitignored .tmp-client-*), so the program resolves openapi-fetch and @types/node
    // from the project's node_modules; its own package.json makes it an ES module (top-level await).
    dir = mkdtempSync(join(root, '.tmp-client-'));
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('drives organisation, key, source, signed alert, incident lifecycle, outbound deliveries and audit verify', { timeout: 120_000 }, async () => {
    expect(SCENARIO).not.toMatch(/\bany\b|\bas [A-Z{(]/);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    writeFileSync(join(dir, 'scenario.ts'), SCENARIO);

    // What an integrator runs (docs/api.md): the CLI on the committed YAML.
    await run(node, [join(root, 'node_modules/openapi-typescript/bin/cli.js'), join(root, 'openapi/openapi.yaml'), '-o', join(dir, 'towline.d.ts')], {
      timeout: 60_000,
    });
    expect(readFileSync(join(dir, 'towline.d.ts'), 'utf8')).toContain('export interface paths');

    // Type-check and compile in one strict run; any diagnostic fails the test with its text.
    const tsc = await run(
      node,
      [
        join(root, 'node_modules/typescript/bin/tsc'),
        '--strict',
        '--noUnusedLocals',
        '--skipLibCheck',
        '--target', 'es2023',
        '--module', 'nodenext',
        '--moduleResolution', 'nodenext',
        '--types', 'node',
        '--rootDir', dir,
        '--outDir', dir,
        join(dir, 'scenario.ts'),
      ],
      { timeout: 60_000 },
    ).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? String(error) }));
    expect(tsc.stdout + tsc.stderr).toBe('');

    // Asynchronously: the server runs in this process and must go on answering while the program runs.
    const program = await run(node, [join(dir, 'scenario.js'), t.url, ADMIN_KEY, receiver.url], { timeout: 60_000 }).catch(
      (error: { stdout?: string; stderr?: string }) => {
        throw new Error(`the scenario failed:\n${error.stderr ?? ''}${error.stdout ?? ''}`);
      },
    );
    const result = JSON.parse(program.stdout);

    expect(result.organisation.name).toBe('Generated Client Co');
    expect(result.key.scopes).toEqual(['admin']);
    expect(result.source).toEqual({ source: SOURCE, organisation_id: result.organisation.id, project_id: result.project });
    expect(result.received).toMatchObject({ status: 'accepted', incident_id: expect.any(String), incident_number: expect.stringMatching(/^INC-\d{4}-0001$/) });
    expect(result.listed).toEqual({ id: result.received.incident_id, number: result.received.incident_number, status: 'open', severity: 'high' });
    expect(result.statuses).toEqual(['open', 'open', 'acknowledged', 'resolved', 'closed', 'open', 'resolved', 'verified']);
    expect(result.assignee).toBe('soc-tier2');
    // Every change after the alert was made with the organisation's key, not the admin's.
    expect(new Set(result.actors.slice(2))).toEqual(new Set([`api-key:${result.key.id}`]));
    expect(result.refused).toEqual({ status: 409, code: 'invalid_transition' });
    expect(result.missing).toEqual({ status: 404, code: 'not_found' });

    expect(result.deliveries.map((d: any) => d.event_type).sort()).toEqual(['finding.acknowledged', 'finding.assigned', 'finding.created', 'finding.resolution_verified']);
    expect(result.deliveries.every((d: any) => d.status === 'succeeded' && d.attempts === 1)).toBe(true);
    expect(result.delivery).toEqual({ id: result.deliveries.at(-1).id, status: 'succeeded', last_status_code: 200 });
    expect(result.stream_verification).toMatchObject({ ok: true, streams_checked: 1 });
    expect(result.stream_verification.events_checked).toBeGreaterThanOrEqual(9);
    expect(result.all_verification).toMatchObject({ state: 'done', result: { ok: true } });

    // The receiver's side, checked with node:crypto only: what the program listed really arrived, signed
    // with the secret the program was shown once.
    const arrived = await receiver.waitFor(4);
    expect(receiver.requests).toHaveLength(4);
    expect(result.webhook.secret).toMatch(/^whsec_/);
    for (const request of arrived) {
      const expected = `sha256=${createHmac('sha256', result.webhook.secret).update(request.body).digest('hex')}`;
      expect(request.headers['x-towline-signature']).toBe(expected);
      expect(request.json().organisation_id).toBe(result.organisation.id);
    }
    expect(new Set(arrived.map((r) => r.headers['x-towline-delivery']))).toEqual(new Set(result.deliveries.map((d: any) => d.id)));

    // And the server agrees, read with the admin key outside the client.
    const incident = await t.request('GET', `/api/incidents/${result.received.incident_id}?organisation_id=${result.organisation.id}`);
    expect(incident.body).toMatchObject({ status: 'verified', organisation_id: result.organisation.id, project_id: result.project });
  });
});
