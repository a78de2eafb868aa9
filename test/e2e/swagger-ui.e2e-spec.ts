import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Issue #11, point 6: Swagger UI (/docs) in a real browser — Debian's Chromium, headless, driven by
 * playwright-core (never a downloaded browser). An integrator authorizes with an API key, runs "Try it
 * out" on a GET and reads the answer, with no network but the server's own origin: the UI's assets are
 * served by the app, so /docs works on an offline machine.
 *
 * Without /usr/bin/chromium the suite skips with a message on a workstation; in CI (CI set) it fails, since
 * .ci/run installs Chromium when it is missing.
 */
const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
const inCi = !!process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase());
if (!present && !inCi) {
  console.warn(`swagger-ui.e2e-spec.ts skipped: ${CHROMIUM} not found (apt-get install -y chromium; CI fails instead of skipping)`);
}

describe.skipIf(!present && !inCi)('Swagger UI in headless Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let orgKey: string;

  beforeAll(async () => {
    // In CI without Chromium the test itself fails (below), so the run counts it as failed, not skipped.
    if (!present) return;
    t = await startTestApp();
    const org = await t.request('POST', '/api/organisations', { name: 'Swagger UI Co' });
    expect(org.status).toBe(201);
    const key = await t.request('POST', `/api/organisations/${org.body.id}/api-keys`, { name: 'browser', scopes: ['read'] });
    expect(key.status).toBe(201);
    orgKey = key.body.key;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      timeout: 30_000,
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('authorizes with a key, runs "Try it out" on GET /api/organisations and shows the 200 answer, offline', { timeout: 90_000 }, async () => {
    expect(present, `${CHROMIUM} is missing: CI must install Chromium (.ci/run does: apt-get install chromium)`).toBe(true);
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    // Everything the page asks for, and anything not from the server itself is refused and remembered.
    const origin = new URL(t.url).origin;
    const requested: string[] = [];
    const external: string[] = [];
    const apiHeaders: Record<string, string>[] = [];
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      requested.push(url);
      if (url === `${origin}/api/organisations`) apiHeaders.push(route.request().headers());
      if (new URL(url).origin === origin) return route.continue();
      external.push(url);
      return route.abort('internetdisconnected');
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    try {
      const answer = await page.goto(`${t.url}/docs`);
      expect(answer?.status()).toBe(200);
      await page.locator('.swagger-ui .info .title').waitFor();
      expect(await page.locator('.swagger-ui .info .title').innerText()).toContain('Towline');

      // Authorize: in the dialog, the API-key scheme's form (`bearer`; /metrics has a token scheme of its
      // own), the key, Authorize, Close.
      await page.locator('.swagger-ui .auth-wrapper button.authorize').click();
      const scheme = page.locator('.swagger-ui .modal-ux form', { has: page.locator('h4', { hasText: /^\s*bearer\s*\(http, Bearer\)/ }) });
      await scheme.locator('input').fill(orgKey);
      await scheme.locator('button.authorize').click();
      await scheme.locator('button.btn-done').click();
      await expect.poll(() => page.locator('.swagger-ui .auth-wrapper button.authorize.locked').count()).toBe(1);

      // The operation, found by its path (operationIds are the document's business), expanded, tried out.
      const operation = page.locator('.opblock.opblock-get', { has: page.locator('.opblock-summary-path[data-path="/api/organisations"]') }).first();
      await operation.locator('.opblock-summary-control').click();
      await operation.locator('button.try-out__btn').click();
      await operation.locator('button.execute').click();

      // The live answer's row (the table's header row carries the same class, with "Code").
      const live = operation.locator('.live-responses-table tr.response');
      await live.locator('.response-col_status').waitFor();
      expect((await live.locator('.response-col_status').innerText()).trim()).toBe('200');
      // The rendered body is the key's organisation only: the request carried the key entered above, not
      // some other credential (the instance admin would also see `default`).
      const body = JSON.parse(await live.locator('.response-col_description pre.microlight').first().innerText());
      expect(body).toEqual([expect.objectContaining({ name: 'Swagger UI Co' })]);
      expect(await operation.locator('.curl-command').innerText()).toContain(`Authorization: Bearer ${orgKey}`);
      // What went over the wire: the key, and no pre-filled Towline-Consistency (a parameter example that
      // Swagger UI would send, making every call wait for a position this instance never reaches: 503).
      expect(apiHeaders).toHaveLength(1);
      expect(apiHeaders[0].authorization).toBe(`Bearer ${orgKey}`);
      expect(apiHeaders[0]).not.toHaveProperty('towline-consistency');

      expect(pageErrors).toEqual([]);
      expect(external).toEqual([]);
      // The UI really came from the server: its script and styles, and the API call it made.
      expect(requested.some((url) => url.startsWith(`${origin}/docs/`) && url.endsWith('.js'))).toBe(true);
      expect(requested.some((url) => url.endsWith('.css'))).toBe(true);
      expect(requested).toContain(`${origin}/api/organisations`);
    } finally {
      await context.close();
    }
  });
});
