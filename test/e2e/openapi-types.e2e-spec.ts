import type { OpenAPIObject } from '@nestjs/swagger';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentOf } from '../support/openapi-responses';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The types integrators generate (openapi-typescript, default options) from the document are not over-strict:
 * optional request fields stay optional (a field's `default` made it required), a body that needs no field may be
 * left out, and an error's `details` is a list or an object (not `Record<string, never>`). Checked by compiling
 * code against the generated types with the TypeScript compiler, including a control that must fail.
 */

type Json = Record<string, any>;

let t: TestApp;
let document: OpenAPIObject;
let generated: string;

beforeAll(async () => {
  t = await startTestApp();
  document = documentOf(t.app);
  generated = astToString(await openapiTS(document as never));
});
afterAll(() => t.close());

/**
 * Diagnostics of `code` compiled (strict mode) in one file after the generated types, as `line: message` with
 * lines counted from the start of `code`.
 */
function compile(code: string): string[] {
  const name = '/virtual/check.ts';
  const offset = generated.split('\n').length;
  const options: ts.CompilerOptions = { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, types: [] };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, ...rest) =>
    file === name ? ts.createSourceFile(file, `${generated}\n${code}`, language) : getSourceFile(file, language, ...rest);
  const program = ts.createProgram([name], options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const line = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1 - offset : 0;
    return `${line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
  });
}

const HEADER = `type S = components['schemas'];\n`;

function bodySchemaOf(operation: Json): Json | undefined {
  const ref = operation.requestBody?.content?.['application/json']?.schema?.$ref as string | undefined;
  return ref ? (document.components!.schemas as Json)[ref.split('/').pop()!] : undefined;
}

function operations(): Array<{ where: string; operation: Json }> {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item as Json)
      .filter(([method]) => ['get', 'put', 'post', 'delete', 'patch'].includes(method))
      .map(([method, operation]) => ({ where: `${method.toUpperCase()} ${path}`, operation: operation as Json })),
  );
}

describe('the generated TypeScript types', () => {
  it('no request body declares a `default` (generators read it as "always present" and make the field required)', () => {
    const offenders = operations().flatMap(({ where, operation }) =>
      Object.entries((bodySchemaOf(operation)?.properties ?? {}) as Json)
        .filter(([, property]) => property && typeof property === 'object' && 'default' in property)
        .map(([name]) => `${where} ${name}`),
    );
    expect(offenders).toEqual([]);
  });

  it('a body whose schema requires no field is not required, and the others are', () => {
    const wrong = operations().flatMap(({ where, operation }) => {
      const schema = bodySchemaOf(operation);
      if (!schema) return [];
      const needsField = (schema.required ?? []).length > 0;
      return operation.requestBody.required === needsField || (!needsField && operation.requestBody.required === undefined) ? [] : [where];
    });
    expect(wrong).toEqual([]);
  });

  it('accept what the server accepts: optional fields left out (also on PATCH), optional bodies left out, details as a list or an object', () => {
    const diagnostics = compile(
      HEADER +
        `
export const createWebhook: S['CreateWebhookDto'] = { url: 'https://siem.example.com/hook' };
export const updateWebhook: S['UpdateWebhookDto'] = {};
export const registerSource: S['RegisterSourceDto'] = { source: 'email-gateway' };
export const updateSource: S['UpdateSourceDto'] = {};
export const rotateSource: S['RotateSecretDto'] = {};
export const testWebhook: S['TestWebhookDto'] = {};
export const triageSettings: S['TriageSettingsBodyDto'] = {};
type Patch = paths['/api/organisations/{orgId}/webhooks/{id}']['patch'];
export const patchWithoutBody: Pick<Patch, 'requestBody'> = {};
type Reopen = paths['/api/incidents/{incident}/reopen']['post'];
export const reopenWithoutBody: Pick<Reopen, 'requestBody'> = {};
type Rotate = paths['/api/organisations/{orgId}/webhooks/{id}/rotate-secret']['post'];
export const rotateWithoutBody: Pick<Rotate, 'requestBody'> = {};
export const fieldErrors: S['ErrorDetail']['details'] = [{ field: 'name', problems: ['name must be a string'] }];
export const transition: S['ErrorDetail']['details'] = { current_state: 'closed', allowed_from: ['open'] };
`,
    );
    expect(diagnostics).toEqual([]);
  });

  it('still refuse what the server refuses (the control: this check can fail)', () => {
    const diagnostics = compile(
      HEADER +
        `
export const noUrl: S['CreateWebhookDto'] = {};
type Resolve = paths['/api/incidents/{incident}/resolve']['post'];
export const resolveWithoutBody: Pick<Resolve, 'requestBody'> = {};
export const wrongFormat: S['CreateWebhookDto'] = { url: 'https://x.example', format: 'xml' };
`,
    );
    expect(diagnostics.map((line) => line.replace(/^(-?\d+):[^]*$/, '$1'))).toEqual(['3', '5', '6']);
  });
});
