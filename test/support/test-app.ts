import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.factory';
import { loadConfig, type AppConfig } from '../../src/config/config';
import { createLogger } from '../../src/observability/logger';

export const ADMIN_KEY = 'tw_test-admin-key-0123456789abcdefghijklmnop';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  /** http://127.0.0.1:<port> */
  url: string;
  dataDir: string;
  /** fetch against the app with the admin key (or `key`) as Bearer and JSON bodies. */
  request(method: string, path: string, body?: unknown, key?: string | null): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

/**
 * The whole application in-process on a real loopback port, on a fresh data directory (real SQLite files).
 * `env` overrides TW_* variables; `dataDir` reuses a directory (restart tests).
 */
export async function startTestApp(options: { env?: Record<string, string>; dataDir?: string } = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'towline-test-'));
  const config = loadConfig({ TW_ADMIN_KEY: ADMIN_KEY, TW_LOG_LEVEL: 'silent', ...options.env, TW_DATA_DIR: dataDir });
  const app = await createApp(config, { logger: createLogger(config) });
  try {
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
    async close() {
      await app.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
