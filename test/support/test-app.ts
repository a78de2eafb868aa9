import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createApp } from '../../src/app.factory';
import { loadConfig, type AppConfig } from '../../src/config/config';
import { createLogger } from '../../src/observability/logger';
import { documentOf, formatViolations, validateResponses, type ResponseViolation } from './openapi-responses';

export const ADMIN_KEY = 'tw_test-admin-key-0123456789abcdefghijklmnop';

/**
 * The response checks of this test file's apps. t.close() reports an app's violations; a test that closes the
 * app another way (t.app.close() before a restart) or swallows close()'s error still fails here, once the file is done.
 */
const checks: Array<{ violations(): ResponseViolation[]; reported: boolean }> = [];
export const unreportedResponseViolations = () => checks.filter((check) => !check.reported).flatMap((check) => check.violations());
afterAll(() => {
  const unreported = unreportedResponseViolations();
  checks.length = 0;
  if (unreported.length > 0) throw new Error(formatViolations(unreported));
});

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  /** http://127.0.0.1:<port> */
  url: string;
  dataDir: string;
  /** fetch against the app with the admin key (or `key`) as Bearer and JSON bodies. */
  request(method: string, path: string, body?: unknown, key?: string | null): Promise<{ status: number; body: any; headers: Headers }>;
  /** Every response so far that does not match the OpenAPI document (test/support/openapi-responses.ts). */
  responseViolations(): ResponseViolation[];
  /** Closes the app, then throws if any response did not match the document, listing them all. */
  close(): Promise<void>;
}

/**
 * The whole application in-process on a real loopback port, on a fresh data directory (real SQLite files).
 * `env` overrides TW_* variables; `dataDir` reuses a directory (restart tests).
 */
export async function startTestApp(
  options: {
    env?: Record<string, string>;
    dataDir?: string;
    /** Validates the responses against this document instead of the app's own (to prove the check bites). */
    responseDocument?: (document: OpenAPIObject) => OpenAPIObject;
  } = {},
): Promise<TestApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'towline-test-'));
  const config = loadConfig({ TW_ADMIN_KEY: ADMIN_KEY, TW_LOG_LEVEL: 'silent', ...options.env, TW_DATA_DIR: dataDir });
  const app = await createApp(config, { logger: createLogger(config) });
  let checked: { violations(): ResponseViolation[]; reported: boolean };
  try {
    // Every response this app sends, to any client, is checked against the document (a hook, set before listening).
    const document = documentOf(app);
    checked = { ...validateResponses(app, options.responseDocument ? options.responseDocument(structuredClone(document)) : document), reported: false };
    checks.push(checked);
    await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (error) {
    // A start that fails here (the configuration file is reconciled on listen) must not keep the data
    // directory locked, nor its stores open, for the next start in this process.
    await app.close();
    throw error;
  }
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  return {
    app,
    config,
    url,
    dataDir,
    async request(method, path, body, key = ADMIN_KEY) {
      const headers: Record<string, string> = {};
      if (key) headers.authorization = `Bearer ${key}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(url + path, {
        method,
        headers,
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, body: parsed, headers: response.headers };
    },
    responseViolations: () => checked.violations(),
    async close() {
      await app.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
      const violations = checked.violations();
      checked.reported = true;
      if (violations.length > 0) throw new Error(formatViolations(violations));
    },
  };
}
