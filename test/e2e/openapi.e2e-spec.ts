import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import createClient from 'openapi-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateOpenApi } from '../../scripts/generate-openapi';
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
