import type { OpenAPIObject } from '@nestjs/swagger';
import { describe, expect, it } from 'vitest';
import { ResponseValidator, documentOf } from '../support/openapi-responses';
import { ADMIN_KEY, startTestApp, unreportedResponseViolations } from '../support/test-app';

/**
 * The response check every in-process test app runs (test/support/openapi-responses.ts) bites: each test gives
 * the app a deliberately wrong copy of its document, sends a request the real document describes, and expects
 * the violation to be reported, by t.responseViolations() and by t.close() failing.
 */

type Json = Record<string, any>;
const schemas = (document: OpenAPIObject) => document.components!.schemas as Json;

describe('the OpenAPI response check', () => {
  it('reports a status the operation does not document', async () => {
    const t = await startTestApp({
      responseDocument: (document) => {
        delete (document.paths['/api/incidents/{incident}'].get!.responses as Json)['404'];
        return document;
      },
    });
    const missing = await t.request('GET', '/api/incidents/INC-2026-9999');
    expect(missing.status).toBe(404);
    expect(t.responseViolations()).toEqual([
      expect.objectContaining({
        method: 'GET',
        route: '/api/incidents/:incident',
        url: '/api/incidents/INC-2026-9999',
        status: 404,
        problems: [expect.stringMatching(/^status 404 is not documented for this operation \(documented: 200, 400, /)],
        bodyExcerpt: expect.stringContaining('"code":"not_found"'),
      }),
    ]);
    await expect(t.close()).rejects.toThrow(/1 response\(s\) do not match the OpenAPI document:\n- GET \/api\/incidents\/:incident \(\/api\/incidents\/INC-2026-9999\) → 404/);
  });

  it('reports a body that breaks its schema, with every Ajv error', async () => {
    const t = await startTestApp({
      responseDocument: (document) => {
        schemas(document).IncidentPageDto.properties.next_cursor = { type: 'integer' };
        schemas(document).IncidentPageDto.properties.items.minItems = 1;
        return document;
      },
    });
    expect((await t.request('GET', '/api/incidents')).status).toBe(200);
    const [violation] = t.responseViolations();
    expect(violation.problems).toEqual([
      '/items must NOT have fewer than 1 items (#/properties/items/minItems)',
      '/next_cursor must be integer (#/properties/next_cursor/type)',
    ]);
    await expect(t.close()).rejects.toThrow(/must be integer/);
  });

  it('reports a content type the document does not list, a body where none is described, and a route missing from the document', async () => {
    const t = await startTestApp({
      responseDocument: (document) => {
        const live = document.paths['/health/live'].get!.responses as Json;
        live['200'].content = { 'text/plain': { schema: { type: 'string' } } };
        const ready = document.paths['/health/ready'].get!.responses as Json;
        for (const response of Object.values(ready)) delete response.content;
        delete document.paths['/health'];
        return document;
      },
    });
    expect((await t.request('GET', '/health/live', undefined, null)).status).toBe(200);
    expect((await t.request('GET', '/health/ready', undefined, null)).status).toBe(200);
    expect((await t.request('GET', '/health', undefined, null)).status).toBe(200);
    expect(t.responseViolations().map((v) => `${v.route}: ${v.problems.join('; ')}`)).toEqual([
      '/health/live: content type application/json; charset=utf-8 is not documented for 200 (documented: text/plain)',
      expect.stringMatching(/^\/health\/ready: the document describes no body for 200, but the server sent one \(application\/json/),
      '/health: GET /health is not in the document (and not in UNDOCUMENTED_ROUTES)',
    ]);
    await expect(t.close()).rejects.toThrow(/3 response\(s\)/);
  });

  it('reports a property the server sends that the document does not list', async () => {
    const t = await startTestApp({
      responseDocument: (document) => {
        delete schemas(document).IncidentPageDto.properties.next_cursor;
        schemas(document).IncidentPageDto.required = ['items'];
        return document;
      },
    });
    expect((await t.request('GET', '/api/incidents')).status).toBe(200);
    expect(t.responseViolations().flatMap((v) => v.problems)).toEqual([
      "(body) must NOT have unevaluated properties 'next_cursor' (#/unevaluatedProperties)",
    ]);
    await expect(t.close()).rejects.toThrow(/unevaluated properties 'next_cursor'/);
  });

  it('checks a streamed NDJSON export line by line', async () => {
    const t = await startTestApp({
      responseDocument: (document) => {
        schemas(document).AuditRecordDto.properties.revision = { type: 'string' };
        return document;
      },
    });
    const response = await fetch(`${t.url}/api/audit/all`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, accept: 'application/x-ndjson' } });
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await response.text()).split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    const [violation] = t.responseViolations();
    expect(violation.route).toBe('/api/audit/all');
    expect(violation.problems).toHaveLength(lines.length);
    expect(violation.problems[0]).toBe('line 1: /revision must be string (#/components/schemas/AuditRecordDto/properties/revision/type)');
    await expect(t.close()).rejects.toThrow(/line 1: \/revision must be string/);
  });

  it('checks every client, not only t.request, and skips only the listed routes', async () => {
    const t = await startTestApp({
      responseDocument: (document) => {
        schemas(document).IncidentPageDto.properties.next_cursor = { type: 'integer' };
        return document;
      },
    });
    // A plain fetch with its own headers, and a HEAD (Fastify answers it for the GET route).
    expect((await fetch(`${t.url}/api/incidents`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).status).toBe(200);
    expect((await fetch(`${t.url}/api/incidents/INC-2026-0001`, { method: 'HEAD', headers: { authorization: `Bearer ${ADMIN_KEY}` } })).status).toBe(404);
    // Swagger UI, the document itself, and a path the server does not have: skipped.
    expect((await fetch(`${t.url}/docs`)).status).toBe(200);
    expect((await fetch(`${t.url}/openapi.json`)).status).toBe(200);
    expect((await fetch(`${t.url}/no-such-path`)).status).toBe(404);
    expect(t.responseViolations().map((v) => `${v.method} ${v.route} ${v.status}`)).toEqual(['GET /api/incidents 200']);
    await expect(t.close()).rejects.toThrow(/must be integer/);
  });

  it('still fails the file when a test closes the app without t.close()', async () => {
    const t = await startTestApp({
      responseDocument: (document) => {
        delete (document.paths['/api/incidents/{incident}'].get!.responses as Json)['404'];
        return document;
      },
    });
    expect((await t.request('GET', '/api/incidents/INC-2026-9999')).status).toBe(404);
    await t.app.close();
    // What the file's afterAll (test/support/test-app.ts) throws unless t.close() reports it.
    expect(unreportedResponseViolations().map((v) => `${v.route} ${v.status}`)).toEqual(['/api/incidents/:incident 404']);
    await expect(t.close()).rejects.toThrow(/status 404 is not documented/);
    expect(unreportedResponseViolations()).toEqual([]);
  });

  it('passes the app’s own document, which compiles whole in strict mode; strict mode refuses 3.0 leftovers', async () => {
    const t = await startTestApp();
    const document = documentOf(t.app);
    expect(document.openapi).toBe('3.1.0');
    expect(() => new ResponseValidator(document, { eager: true })).not.toThrow();
    expect((await t.request('GET', '/api/incidents')).status).toBe(200);
    expect(t.responseViolations()).toEqual([]);
    await t.close();

    const leftover = structuredClone(document);
    schemas(leftover).IncidentPageDto.properties.next_cursor = { type: 'string', nullable: true };
    expect(() => new ResponseValidator(leftover, { eager: true })).toThrow(/the schema does not compile in strict mode: strict mode: unknown keyword: "nullable"/);
    const bound = structuredClone(document);
    schemas(bound).IncidentPageDto.properties.next_cursor = { type: 'number', minimum: 0, exclusiveMinimum: true };
    expect(() => new ResponseValidator(bound, { eager: true })).toThrow(/exclusiveMinimum must be number/);
    expect(() => new ResponseValidator({ ...document, openapi: '3.0.0' })).toThrow(/reads OpenAPI 3.1/);
  });
});
