import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Webhook } from 'standardwebhooks';
import { parse as parseYaml, parseDocument, visit } from 'yaml';
import openapiTS, { astToString } from 'openapi-typescript';
import createClient from 'openapi-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lintOpenApi, staleFiles } from '../../scripts/check-openapi';
import { generateOpenApi } from '../../scripts/generate-openapi';
import { ERROR_CODES } from '../../src/http/openapi/error-catalogue';
import { EXAMPLE_SECRET } from '../../src/outbound/http/openapi-webhooks';
import { eventually, pythonVerify, RECEIVER_ENV, startReceiver, type Receiver } from '../support/receiver';
import { startTestApp, ADMIN_KEY, type TestApp } from '../support/test-app';

const committed = (file: string) => readFileSync(join(__dirname, '..', '..', 'openapi', file), 'utf8');

describe('the committed OpenAPI document', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is exactly what the code generates (run `npm run openapi` after changing a controller or DTO)', async () => {
    const generated = await generateOpenApi();
    expect(committed('openapi.json')).toBe(generated.json);
    expect(committed('openapi.yaml')).toBe(generated.yaml);
  });

  it('is what the server serves at /openapi.json', async () => {
    const served = await t.request('GET', '/openapi.json', undefined, null);
    expect(served.body).toEqual(JSON.parse(committed('openapi.json')));
  });

  it('documents an error response for every operation and gives each a unique operationId', () => {
    const document = JSON.parse(committed('openapi.json')) as {
      paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>;
    };
    const ids = new Set<string>();
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect(ids.has(operation.operationId), `${method} ${path}`).toBe(false);
        ids.add(operation.operationId);
        if (!path.startsWith('/health') && path !== '/metrics') {
          expect(Object.keys(operation.responses).some((s) => s.startsWith('4')), `${method} ${path}`).toBe(true);
        }
      }
    }
  });

  it('generates a typed client (openapi-typescript) that type-checks and works against the server', async () => {
    // Type-check a small integrator program against the generated types: the document must yield valid,
    // usable TypeScript, not just parse.
    const root = join(__dirname, '..', '..');
    const dir = mkdtempSync(join(root, '.tmp-client-'));
    try {
      writeFileSync(join(dir, 'towline.d.ts'), astToString(await openapiTS(committed('openapi.json'))));
      writeFileSync(
        join(dir, 'client.ts'),
        [
          "import createClient from 'openapi-fetch';",
          "import type { paths } from './towline';",
          "const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:1' });",
          'export async function run(): Promise<string> {',
          "  const { data } = await client.POST('/api/organisations', { body: { name: 'x' } });",
          "  const projects = await client.GET('/api/organisations/{orgId}/projects', { params: { path: { orgId: data!.id } } });",
          '  return projects.data![0].name;',
          '}',
        ].join('\n'),
      );
      const tsc = spawnSync(
        process.execPath,
        [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', join(dir, 'client.ts')],
        { encoding: 'utf8' },
      );
      expect(tsc.stdout + tsc.stderr).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const client = createClient<any>({ baseUrl: t.url, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const created = await client.POST('/api/organisations', { body: { name: 'Generated Client Co' } });
    expect(created.response.status).toBe(201);
    const listed = await client.GET('/api/organisations/{orgId}/projects', { params: { path: { orgId: created.data.id } } });
    expect(listed.data).toEqual([]);
    const refused = await client.POST('/api/organisations', { body: { name: 7 } });
    expect(refused.error).toMatchObject({ error: { code: 'invalid_request' } });
  });
});

type Json = Record<string, any>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const document = (): Json => JSON.parse(committed('openapi.json'));

/** Every operation of the document's paths, with its path and method. */
function operations(doc: Json): { path: string; method: string; op: Json }[] {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    Object.entries(item as Json)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ path, method, op: op as Json })),
  );
}

function operation(doc: Json, operationId: string): Json {
  const found = operations(doc).find((o) => o.op.operationId === operationId);
  if (!found) throw new Error(`no operation ${operationId}`);
  return found.op;
}

/** The examples (references resolved) of an operation's error response for `status`, keyed as in the document. */
function errorExamples(doc: Json, operationId: string, status: number): Record<string, { code: string; message: string; details?: unknown }> {
  const media = operation(doc, operationId).responses[String(status)]?.content?.['application/json'];
  if (!media) throw new Error(`${operationId} documents no ${status}`);
  return Object.fromEntries(
    Object.entries(media.examples as Json).map(([key, example]) => {
      const resolved = example.$ref ? doc.components.examples[example.$ref.split('/').pop()] : example;
      return [key, resolved.value.error];
    }),
  );
}

describe('the OpenAPI 3.1 document (structure)', () => {
  it('is OpenAPI 3.1 in the JSON Schema 2020-12 dialect: no 3.0 keywords left in any schema', () => {
    const doc = document();
    expect(doc.openapi).toBe('3.1.0');
    const leftovers: string[] = [];
    const walk = (node: unknown, at: string, inSchema: boolean): void => {
      if (Array.isArray(node)) return node.forEach((child, i) => walk(child, `${at}/${i}`, inSchema));
      if (node === null || typeof node !== 'object') return;
      for (const [key, child] of Object.entries(node)) {
        // Example values are data, not schemas.
        if ((key === 'examples' || key === 'example') && !inSchema) continue;
        if (inSchema && (key === 'nullable' || key === 'example')) leftovers.push(`${at}/${key}`);
        if (NAME_KEYED.includes(key) && child && typeof child === 'object') {
          // A map of names to schemas: a property may well be named `example`.
          for (const [name, schema] of Object.entries(child)) walk(schema, `${at}/${key}/${name}`, true);
          continue;
        }
        walk(child, `${at}/${key}`, inSchema || key === 'schema');
      }
    };
    const NAME_KEYED = ['properties', 'patternProperties', '$defs', 'schemas'];
    walk(doc, '#', false);
    expect(leftovers).toEqual([]);
  });

  it('has a licence (Apache-2.0, as package.json), a server, and the bearer scheme', () => {
    const doc = document();
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
    expect(doc.info.license).toEqual({ name: pkg.license, identifier: pkg.license });
    expect(doc.servers.length).toBeGreaterThan(0);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('is plain YAML too: no anchors, no aliases, and the same document as the JSON', () => {
    const yamlText = committed('openapi.yaml');
    const parsed = parseDocument(yamlText);
    const found: string[] = [];
    visit(parsed, {
      Alias: (_key, node) => void found.push(`alias *${node.source}`),
      Node: (_key, node) => void (node.anchor ? found.push(`anchor &${node.anchor}`) : undefined),
    });
    expect(found).toEqual([]);
    // The YAML reads back exactly as the JSON, with a YAML 1.2 reader and with PyYAML (YAML 1.1, where an
    // unquoted 2024-01-15T10:00:00Z is a datetime and `on` a boolean).
    expect(parseYaml(yamlText)).toEqual(document());
    const python = spawnSync(
      'python3',
      ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1])) == json.load(open(sys.argv[2]))))', 'openapi/openapi.yaml', 'openapi/openapi.json'],
      { cwd: join(__dirname, '..', '..'), encoding: 'utf8' },
    );
    expect(python.stderr).toBe('');
    expect(python.stdout.trim()).toBe('true');
  });

  it('gives every operation a unique, readable camelCase operationId, exactly one declared tag, and a summary', () => {
    const doc = document();
    const webhookOps = Object.values(doc.webhooks as Json).map((item) => (item as Json).post as Json);
    const all = [...operations(doc).map((o) => o.op), ...webhookOps];
    const ids = all.map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const op of all) {
      expect(op.operationId).toMatch(/^[a-z]+[A-Z][A-Za-z0-9]*$/);
      expect(op.tags, op.operationId).toHaveLength(1);
      expect(op.summary?.length, op.operationId).toBeGreaterThan(10);
    }
    const tags = new Map((doc.tags as Json[]).map((tag) => [tag.name, tag.description]));
    for (const op of all) expect(tags.has(op.tags[0]), `${op.operationId}: ${op.tags[0]}`).toBe(true);
    for (const [name, description] of tags) {
      expect(description, name).toBeTruthy();
      expect(all.some((op) => op.tags[0] === name), `tag ${name} is used`).toBe(true);
    }
    const tagOf = (id: string) => all.find((op) => op.operationId === id)!.tags[0];
    expect(['listIncidents', 'createOrganisation', 'getHealth', 'receiveAlert', 'registerSource', 'createWebhook'].map(tagOf)).toEqual([
      'Incidents',
      'Organisations',
      'Health',
      'Alerts (inbound)',
      'Sources (inbound)',
      'Webhooks (outbound)',
    ]);
  });

  it('documents the receiver signature headers as required parameters, and a seed payload per vendor format', () => {
    const receive = operation(document(), 'receiveAlert');
    const headers = (receive.parameters as Json[]).filter((p) => p.in === 'header' && p.required);
    expect(headers.map((p) => p.name).sort()).toEqual(['X-Webhook-Signature', 'X-Webhook-Timestamp']);
    for (const header of headers) expect(header.description.length).toBeGreaterThan(20);
    const examples = receive.requestBody.content['application/json'].examples;
    expect(Object.keys(examples)).toEqual(['generic', 'defender', 'crowdstrike', 'splunk', 'test']);
    // The header examples are a real signature of the generic example, as openssl computes it.
    const [timestamp, signature] = ['X-Webhook-Timestamp', 'X-Webhook-Signature'].map((name) => headers.find((p) => p.name === name)!.schema.examples[0]);
    const openssl = spawnSync('openssl', ['dgst', '-sha256', '-hmac', 'your-secret-key'], { input: `${timestamp}.${JSON.stringify(examples.generic.value)}`, encoding: 'utf8' });
    expect(signature).toBe(`sha256=${openssl.stdout.trim().split('= ').pop()}`);
  });

  it('describes every error response with the error envelope, an example per code, and the codes in its description', () => {
    const doc = document();
    for (const { op } of operations(doc)) {
      for (const [status, response] of Object.entries(op.responses as Json)) {
        if (Number(status) < 400) continue;
        const media = response.content['application/json'];
        if (op.operationId.startsWith('get') && ['getHealth', 'getReadiness'].includes(op.operationId) && status === '503') {
          continue; // the probes answer their own body with 503
        }
        expect(media.schema, `${op.operationId} ${status}`).toEqual({ $ref: '#/components/schemas/ErrorResponseDto' });
        const examples = errorExamples(doc, op.operationId, Number(status));
        expect(Object.keys(examples).length, `${op.operationId} ${status}`).toBeGreaterThan(0);
        for (const error of Object.values(examples)) {
          expect(error.message.length).toBeGreaterThan(5);
          expect(response.description, `${op.operationId} ${status}`).toContain(`\`${error.code}\``);
        }
      }
    }
    // Not the same invalid_request everywhere: the statuses show their own codes.
    expect(Object.values(errorExamples(doc, 'receiveAlert', 401)).map((e) => e.code)).toEqual(['timestamp_expired', 'invalid_signature']);
    expect(Object.values(errorExamples(doc, 'acknowledgeIncident', 409)).map((e) => e.code)).toEqual(['invalid_transition', 'conflict']);
  });

  it('passes @redocly/cli lint with the recommended rules, offline (exceptions only those written down)', () => {
    const lint = lintOpenApi();
    expect(lint.output).not.toMatch(/warning|error/i);
    expect(lint.status, lint.output).toBe(0);
    const ignored = readFileSync(join(__dirname, '..', '..', '.redocly.lint-ignore.yaml'), 'utf8');
    expect(readFileSync(join(__dirname, '..', '..', 'docs', 'api.md'), 'utf8')).toContain('no-ambiguous-paths');
    expect(ignored.match(/^\s+- '/gm)).toHaveLength(6);
  });

  it('docs/api.md lists every code of the catalogue under its status', () => {
    const docs = readFileSync(join(__dirname, '..', '..', 'docs', 'api.md'), 'utf8');
    for (const [key, entry] of Object.entries(ERROR_CODES) as [string, { status: number; code?: string }][]) {
      const row = docs.split('\n').find((line) => line.startsWith(`| ${entry.status} |`));
      expect(row, `docs/api.md has a row for ${entry.status}`).toBeDefined();
      expect(row, key).toContain(`\`${entry.code ?? key}\``);
    }
  });

  it('openapi:check reports a committed file that is stale, and names the line', async () => {
    const copy = mkdtempSync(join(__dirname, '..', '..', '.tmp-openapi-'));
    try {
      cpSync(join(__dirname, '..', '..', 'openapi'), join(copy, 'openapi'), { recursive: true });
      mkdirSync(join(copy, 'cli'));
      cpSync(join(__dirname, '..', '..', 'cli', 'towline-api.d.ts'), join(copy, 'cli', 'towline-api.d.ts'));
      expect(await staleFiles(copy)).toEqual([]);
      const json = readFileSync(join(copy, 'openapi', 'openapi.json'), 'utf8').replace('"listIncidents"', '"Incidents_list"');
      writeFileSync(join(copy, 'openapi', 'openapi.json'), json);
      rmSync(join(copy, 'openapi', 'openapi.yaml'));
      // tw-cli's types of the answers are generated from the document too: a hand edit is drift as well.
      const types = join(copy, 'cli', 'towline-api.d.ts');
      writeFileSync(types, readFileSync(types, 'utf8').replace('number: string;', 'number: number;'));
      const stale = await staleFiles(copy);
      expect(stale).toHaveLength(3);
      expect(stale[0]).toMatch(/openapi\/openapi\.json differs from the code, first at line \d+:\n.*Incidents_list/);
      expect(stale[1]).toBe('openapi/openapi.yaml is missing');
      expect(stale[2]).toMatch(/cli\/towline-api\.d\.ts differs from the code, first at line \d+:\n.*number: number;/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe('the OpenAPI document against the live server', () => {
  let t: TestApp;
  let receiver: Receiver;
  const doc = document();
  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestApp({ env: RECEIVER_ENV });
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  const fill = (path: string) => path.replace(/\{[^}]+\}/g, 'default');

  it('security: every bearer operation answers 401 without a key; the public ones do not ask for one', async () => {
    for (const { path, method, op } of operations(doc)) {
      const answer = await fetch(t.url + fill(path), { method: method.toUpperCase() });
      const body = (await answer.text()).trim();
      if (op.security.length === 0) {
        expect(answer.status, `${op.operationId} is public`).not.toBe(401);
        continue;
      }
      if (op.operationId === 'getMetrics') {
        // Optional: no token configured here, so it answers without one.
        expect(op.security).toEqual([{ metrics_token: [] }, {}]);
        expect(answer.status).toBe(200);
        continue;
      }
      expect(op.security, op.operationId).toEqual([{ bearer: [] }]);
      expect([answer.status, JSON.parse(body).error.code], `${method} ${path}`).toEqual([401, 'unauthorized']);
      expect(JSON.parse(body).error.message).toBe(errorExamples(doc, op.operationId, 401).unauthorized.message);
    }
    expect(operations(doc).filter((o) => o.op.security.length === 0).map((o) => o.op.operationId).sort()).toEqual([
      'getHealth',
      'getLiveness',
      'getReadiness',
      'receiveAlert',
    ]);
  });

  /** The server's answer to a request, compared with the documented example of that operation, status and key. */
  async function expectDocumented(
    operationId: string,
    status: number,
    key: string,
    request: { method: string; path: string; headers?: Record<string, string>; body?: string; apiKey?: string | null },
  ): Promise<void> {
    const headers: Record<string, string> = { ...request.headers };
    if (request.apiKey !== null) headers.authorization = `Bearer ${request.apiKey ?? ADMIN_KEY}`;
    const answer = await fetch(t.url + request.path, { method: request.method, headers, body: request.body });
    const body = (await answer.json()) as Json;
    const documented = errorExamples(doc, operationId, status)[key];
    expect(documented, `${operationId} ${status} ${key} is documented`).toBeDefined();
    expect({ status: answer.status, code: body.error.code, message: body.error.message }).toEqual({ status, code: documented.code, message: documented.message });
    if (documented.details !== undefined) expect(body.error.details).toEqual(documented.details);
  }

  const json = { 'content-type': 'application/json' };

  it('the error examples are what the server answers: code and message, per status', async () => {
    await expectDocumented('createOrganisation', 415, 'unsupported_media_type', { method: 'POST', path: '/api/organisations', headers: { 'content-type': 'text/plain' }, body: 'x' });
    await expectDocumented('createOrganisation', 413, 'payload_too_large', {
      method: 'POST',
      path: '/api/organisations',
      headers: json,
      body: JSON.stringify({ name: 'x'.repeat(t.config.bodyLimit) }),
    });
    await expectDocumented('createOrganisation', 400, 'invalid_json', { method: 'POST', path: '/api/organisations', headers: json, body: '{x' });
    await expectDocumented('createOrganisation', 400, 'invalid_request', { method: 'POST', path: '/api/organisations', headers: json, body: '{"name":7}' });
    await expectDocumented('listIncidents', 401, 'unauthorized', { method: 'GET', path: '/api/incidents', apiKey: null });
    await expectDocumented('getIncident', 404, 'not_found', { method: 'GET', path: '/api/incidents/INC-2026-0001' });
    await expectDocumented('listIncidents', 400, 'invalid_request', { method: 'GET', path: '/api/incidents?cursor=nope' });
    await expectDocumented('getHealth', 400, 'invalid_consistency_token', { method: 'GET', path: '/health', headers: { 'towline-consistency': 'nope' } });
    await expectDocumented('registerSource', 400, 'unknown_playbook', {
      method: 'POST',
      path: '/api/webhooks',
      headers: json,
      body: JSON.stringify({ source: 'email-gateway', secret: 'a-long-enough-secret', auto_triage: true, playbook: 'phishing' }),
    });
    const register = JSON.stringify({ source: 'email-gateway', secret: 'a-long-enough-secret' });
    expect((await t.request('POST', '/api/webhooks', JSON.parse(register))).status).toBe(201);
    await expectDocumented('registerSource', 409, 'source_exists', { method: 'POST', path: '/api/webhooks', headers: json, body: register });

    const key = await t.request('POST', '/api/organisations/default/api-keys', { name: 'reader', scopes: ['read'] });
    await expectDocumented('createProject', 403, 'forbidden', {
      method: 'POST',
      path: '/api/organisations/default/projects',
      headers: json,
      body: '{"name":"Payments"}',
      apiKey: key.body.key,
    });
    expect((await t.request('POST', '/api/organisations/default/projects', { name: 'Payments' })).status).toBe(201);
    await expectDocumented('createProject', 409, 'project_exists', { method: 'POST', path: '/api/organisations/default/projects', headers: json, body: '{"name":"Payments"}' });

    // The receiver: the seed's own codes and messages.
    const now = String(Math.floor(Date.now() / 1000));
    const sign = (timestamp: string, body: string) => `sha256=${createHmac('sha256', 'a-long-enough-secret').update(`${timestamp}.${body}`).digest('hex')}`;
    const post = (source: string, timestamp: string, body: string, signature = sign(timestamp, body)) => ({
      method: 'POST',
      path: `/api/webhooks/${source}`,
      headers: { ...json, 'x-webhook-timestamp': timestamp, 'x-webhook-signature': signature },
      body,
      apiKey: null,
    });
    await expectDocumented('receiveAlert', 404, 'unknown_source', post('unknown', now, '{}'));
    await expectDocumented('receiveAlert', 401, 'timestamp_expired', post('email-gateway', '1705320000', '{}'));
    await expectDocumented('receiveAlert', 401, 'invalid_signature', post('email-gateway', now, '{}', `sha256=${'0'.repeat(64)}`));
    await expectDocumented('receiveAlert', 400, 'invalid_payload', post('email-gateway', now, '[]'));
  });

  it('more error examples as the server answers them: outbound URLs, events, idempotency, the incident lifecycle', async () => {
    const hooks = '/api/organisations/default/webhooks';
    await expectDocumented('createWebhook', 400, 'invalid_url', { method: 'POST', path: hooks, headers: json, body: '{"url":"ftp://siem.example.com/hooks"}' });
    await expectDocumented('createWebhook', 400, 'unsafe_url', { method: 'POST', path: hooks, headers: json, body: '{"url":"http://169.254.169.254/latest"}' });
    const events = '/api/organisations/default/events';
    const answer = await t.request('POST', events, { event_type: 'finding.created', data: { title: 'x' } });
    const documented = errorExamples(doc, 'publishSecurityEvent', 400).invalid_event;
    expect([answer.status, answer.body.error.code, answer.body.error.message]).toEqual([400, documented.code, documented.message]);
    expect(answer.body.error.details).toContainEqual((documented.details as unknown[])[0]);
    await expectDocumented('publishSecurityEvent', 400, 'invalid_idempotency_key', { method: 'POST', path: events, headers: { ...json, 'idempotency-key': 'k'.repeat(256) }, body: '{}' });
    const once = { ...json, 'idempotency-key': 'once' };
    const published = await fetch(t.url + events, {
      method: 'POST',
      headers: { ...once, authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({ event_type: 'quality.regression', data: { issue_id: 'q-1' } }),
    });
    expect(published.status).toBe(201);
    await expectDocumented('publishSecurityEvent', 422, 'idempotency_key_reused', { method: 'POST', path: events, headers: once, body: JSON.stringify({ event_type: 'quality.regression', data: { issue_id: 'q-2' } }) });

    // The lifecycle: a closed incident cannot be acknowledged (the documented example names INC-2026-0001).
    expect((await t.request('POST', '/api/webhooks', { source: 'lifecycle', secret: 'lifecycle-secret-0123' })).status).toBe(201);
    const body = JSON.stringify({ event_type: 'security_alert', source: 'lifecycle', data: { alert_id: 'a-lifecycle', severity: 'high' } });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = `sha256=${createHmac('sha256', 'lifecycle-secret-0123').update(`${timestamp}.${body}`).digest('hex')}`;
    const received = await fetch(`${t.url}/api/webhooks/lifecycle`, { method: 'POST', headers: { ...json, 'x-webhook-timestamp': timestamp, 'x-webhook-signature': signature }, body });
    const incident = ((await received.json()) as Json).incident_number as string;
    expect((await t.request('POST', `/api/incidents/${incident}/close`, { reason: 'false_positive' })).status).toBe(200);
    const refused = await t.request('POST', `/api/incidents/${incident}/acknowledge`);
    const transition = errorExamples(doc, 'acknowledgeIncident', 409).invalid_transition;
    expect([refused.status, refused.body.error.code, refused.body.error.message.replace(incident, 'INC-2026-0001')]).toEqual([409, transition.code, transition.message]);
    expect(refused.body.error.details).toEqual(transition.details);
  });

  it('every inbound example is a payload the receiver accepts (signed, posted, answered 202)', async () => {
    expect((await t.request('POST', '/api/webhooks', { source: 'examples', secret: 'examples-secret-0123' })).status).toBe(201);
    const examples = operation(doc, 'receiveAlert').requestBody.content['application/json'].examples as Json;
    for (const [name, example] of Object.entries(examples)) {
      const body = JSON.stringify(example.value);
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signature = `sha256=${createHmac('sha256', 'examples-secret-0123').update(`${timestamp}.${body}`).digest('hex')}`;
      const answer = await fetch(`${t.url}/api/webhooks/examples`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-webhook-timestamp': timestamp, 'x-webhook-signature': signature },
        body,
      });
      const answered = (await answer.json()) as Json;
      expect([name, answer.status, answered.status], JSON.stringify(answered)).toEqual([name, 202, 'accepted']);
      if (name !== 'test') expect(answered.incident_id, name).toBeTruthy();
    }
  });

  it('webhooks: one per event type GET /api/event-types serves, with the very same JSON Schema of its data', async () => {
    const served = (await t.request('GET', '/api/event-types')).body as Json[];
    expect(served.length).toBe(14);
    for (const type of served) {
      const hook = doc.webhooks[type.type]?.post;
      expect(hook, type.type).toBeDefined();
      const { $schema, ...schema } = type.schema;
      expect($schema).toBe('https://json-schema.org/draft/2020-12/schema');
      const name = hook.requestBody.content['application/json'].schema.oneOf[0].allOf[1].properties.data.$ref.split('/').pop();
      expect(doc.components.schemas[name], type.type).toEqual(schema);
    }
  });

  it('webhooks: every format example validates against its schema (Ajv 2020, strict), and the example headers verify (seed verify(), standardwebhooks)', () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    // The document's references point into one registered schema holding the components as $defs.
    const rewrite = (value: unknown) => JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', '"components.json#/$defs/'));
    ajv.addSchema({ $id: 'components.json', $defs: rewrite(doc.components.schemas) });
    for (const [type, item] of Object.entries(doc.webhooks as Json)) {
      const hook = item.post;
      const media = hook.requestBody.content['application/json'];
      const check = ajv.compile(rewrite(media.schema));
      expect(Object.keys(media.examples)).toEqual(['envelope', 'splunk_hec', 'slack', 'teams']);
      for (const [format, example] of Object.entries(media.examples as Json)) {
        expect(check(example.value), `${type} ${format}: ${ajv.errorsText(check.errors)}`).toBe(true);
      }
      // The header examples are those of the envelope example's delivery, signed with the documented example secret.
      const headers = Object.fromEntries((hook.parameters as Json[]).map((p) => [p.name, String(p.example)]));
      const body = JSON.stringify(media.examples.envelope.value);
      expect(pythonVerify(Buffer.from(body), EXAMPLE_SECRET, headers['X-Towline-Signature']), type).toBe(true);
      const timestamp = new Date(Number(headers['webhook-timestamp']) * 1000);
      expect(new Webhook(EXAMPLE_SECRET).sign(headers['webhook-id'], timestamp, body), type).toBe(headers['webhook-signature']);
      expect(headers['X-Towline-Event']).toBe(type);
      expect(headers['X-Towline-Delivery']).toBe(headers['webhook-id']);
    }
  });

  it('webhooks: a real delivery carries every documented header and a body valid against the webhook schema', async () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    const rewrite = (value: unknown) => JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', '"components.json#/$defs/'));
    ajv.addSchema({ $id: 'components.json', $defs: rewrite(doc.components.schemas) });
    const formats = ['envelope', 'splunk_hec', 'slack', 'teams'];
    for (const format of formats) {
      const created = await t.request('POST', '/api/organisations/default/webhooks', { url: `${receiver.url}/${format}`, format, event_types: ['finding.created'] });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
    }
    const hook = doc.webhooks['finding.created'].post;
    const example = hook.requestBody.content['application/json'].examples.envelope.value;
    expect((await t.request('POST', '/api/organisations/default/events', { event_type: 'finding.created', data: example.data })).status).toBe(201);
    const received = await eventually(() => (receiver.requests.length >= formats.length ? receiver.requests : undefined), 10_000, 'the deliveries');
    const check = ajv.compile(rewrite(hook.requestBody.content['application/json'].schema));
    for (const request of received) {
      expect(check(request.json()), `${request.path}: ${ajv.errorsText(check.errors)}`).toBe(true);
      for (const parameter of hook.parameters as Json[]) {
        expect(request.headers[parameter.name.toLowerCase()], `${request.path} ${parameter.name}`).toMatch(new RegExp(parameter.schema.pattern ?? '.'));
      }
    }
  });
});
