import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../cli/tw-cli';
import { runCli, type CliRun as Run } from '../support/cli-process';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';

const ROOT = join(__dirname, '..', '..');

/**
 * The built tw-cli with exactly this environment on top of the test's, minus TW_URL, TW_API_KEY and the
 * config locations: each test says where the settings come from.
 */
function cli(args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<Run> {
  const { TW_URL: _url, TW_API_KEY: _key, XDG_CONFIG_HOME: _xdg, HOME: _home, ...base } = process.env;
  const merged = Object.fromEntries(Object.entries({ ...base, HOME: NO_HOME, ...env }).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return runCli(args, merged, input);
}

const TEMP = mkdtempSync(join(tmpdir(), 'tw-cli-connection-'));
/** HOME for runs that do not set one: empty, so no developer's ~/.config/towline takes part. */
const NO_HOME = join(TEMP, 'no-home');
mkdirSync(NO_HOME);

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createTcpServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A reverse proxy as one is set up in front of Towline: /towline/… is forwarded without the prefix, the rest is 404. */
function startProxy(upstream: string): { server: Server; paths: string[] } {
  const paths: string[] = [];
  const target = new URL(upstream);
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    if (!req.url?.startsWith('/towline/')) {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<html>no such site</html>');
      return;
    }
    const forwarded = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url.slice('/towline'.length), headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(forwarded);
  });
  return { server, paths };
}

/** Every verb's command path, e.g. ['webhook', 'add'], from the program itself: a verb added later is covered too. */
function verbs(): string[][] {
  const walk = (command: Command, path: string[]): string[][] =>
    command.commands.length === 0 ? [path] : command.commands.flatMap((c) => walk(c, [...path, c.name()]));
  return walk(buildProgram().program, []);
}

describe('tw-cli: help, exit codes, URLs, the config file, and servers that are not Towline', () => {
  let t: TestApp;
  const servers: Server[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp();
    env = { TW_URL: t.url, TW_API_KEY: ADMIN_KEY };
  });
  afterAll(async () => {
    await t?.close();
    for (const server of servers) server.close();
    rmSync(TEMP, { recursive: true, force: true });
  });

  it('every verb has --help with its description, and exits 0', async () => {
    const all = verbs();
    expect(all.length).toBeGreaterThan(50);
    for (const path of all.filter((p) => p[0] !== 'help')) {
      const run = await cli([...path, '--help']);
      expect(run, path.join(' ')).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toMatch(new RegExp(`^Usage: tw-cli ${path.join(' ')}\\b`));
      expect(run.stdout.split('\n')[2].trim().length, `${path.join(' ')} has a description`).toBeGreaterThan(10);
    }
    // A verb's own --url or --json would never reach it: commander gives the global option precedence.
    const program = buildProgram().program;
    const globals = program.options.map((o) => o.long);
    const walk = (command: Command): string[] => command.commands.flatMap((c) => [...c.options.map((o) => `${c.name()} ${o.long}`), ...walk(c)]);
    expect(walk(program).filter((option) => globals.includes(option.split(' ')[1]))).toEqual([]);
    const top = await cli(['--help']);
    expect(top.stdout).toContain('Exit codes: 0 ok, 1 other, 2 usage, 3 auth, 4 not found, 5 conflict, 6 server, 7 network, 8 not a Towline server');
  });

  it('usage errors exit 2: unknown verbs and options, missing arguments, bad values, a URL without a scheme — never with a stack trace', async () => {
    for (const args of [['webhook', 'frobnicate'], ['webhook', 'list', '--bogus'], ['webhook', 'add'], ['incidents', 'list', '--status', 'sleeping'], ['logs', '--tail', '0'], ['webhook']]) {
      const run = await cli(args, env);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    for (const url of ['localhost:8080', '127.0.0.1:8080', 'ftp://example.com', 'http://user:pw@127.0.0.1:8080']) {
      const run = await cli(['webhook', 'list'], { ...env, TW_URL: url });
      expect(run.code, url).toBe(2);
      expect(run.stderr).toMatch(/^error: TW_URL must /);
      expect(run.stderr).toContain('hint: ');
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    const flag = await cli(['--url', 'localhost:8080', 'webhook', 'list'], env);
    expect(flag.stderr).toBe("error: --url must start with http:// or https:// (got 'localhost:8080')\nhint: Give the full URL, e.g. http://localhost:8080 or https://towline.example.com/towline/.\n");
  });

  it('auth errors exit 3: no key, a wrong key', async () => {
    const none = await cli(['webhook', 'list'], { TW_URL: t.url });
    expect(none).toMatchObject({ code: 3, stdout: '' });
    expect(none.stderr).toContain('hint: Run `tw-cli login`, set TW_API_KEY, or pass --api-key');
    const wrong = await cli(['webhook', 'list', '--api-key', 'tw_not-a-key-of-this-server-0123456789abcdef'], env);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/^error: unauthorized: /);
    expect(wrong.stderr).toContain('hint: The server refused --api-key');
  });

  it('not found exits 4, conflict 5', async () => {
    expect((await cli(['webhook', 'show', 'nothing-here'], env)).code).toBe(4);
    expect((await cli(['webhook', 'add', 'twice', '--secret', 'twice-secret-0001'], env)).code).toBe(0);
    const again = await cli(['webhook', 'add', 'twice', '--secret', 'twice-secret-0001'], env);
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/^error: source_exists: /);
  });

  it('network errors exit 7: nothing listens at the URL', async () => {
    const run = await cli(['incidents', 'list'], { ...env, TW_URL: `http://127.0.0.1:${await closedPort()}` });
    expect(run.code).toBe(7);
    expect(run.stderr).toMatch(/^error: Cannot reach Towline at http:\/\/127\.0\.0\.1:\d+\/ \(ECONNREFUSED\)\nhint: /);
  });

  it('refuses a server that is not Towline (exit 8), whatever it answers', async () => {
    const empty = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const html = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>It works!</html>'));
    servers.push(empty, html);
    for (const url of [await listen(empty), await listen(html)]) {
      for (const args of [['webhook', 'list'], ['webhook', 'add', 'x', '--secret', 'some-secret-0001'], ['health']]) {
        const run = await cli(args, { TW_URL: url, TW_API_KEY: ADMIN_KEY });
        expect(run, `${url} ${args.join(' ')}`).toMatchObject({ code: 8, stdout: '' });
        expect(run.stderr).toMatch(/^error: http:\/\/127\.0\.0\.1:\d+\/ is not a Towline server/);
        expect(run.stderr).toContain('hint: Check TW_URL or --url');
      }
    }
  });

  it('server errors exit 6 with the request id: a proxy whose upstream fails after the health check', async () => {
    const health = await (await fetch(`${t.url}/health`)).text();
    const broken = createServer((req, res) => {
      if (req.url === '/health') res.writeHead(200, { 'content-type': 'application/json' }).end(health);
      else if (req.url?.startsWith('/api/webhooks')) res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>');
      else res.writeHead(500, { 'content-type': 'application/json', 'x-request-id': 'req-42' }).end('{"error":{"code":"internal_error","message":"Internal server error"}}');
    });
    servers.push(broken);
    const url = await listen(broken);
    const gateway = await cli(['webhook', 'list'], { TW_URL: url, TW_API_KEY: ADMIN_KEY });
    expect(gateway.code).toBe(6);
    expect(gateway.stderr).toMatch(/answered HTTP 502 without a Towline error: <html>Bad Gateway<\/html>/);
    const internal = await cli(['incidents', 'list'], { TW_URL: url, TW_API_KEY: ADMIN_KEY });
    expect(internal.code).toBe(6);
    expect(internal.stderr).toBe(
      'error: internal_error: Internal server error\n  request id: req-42\nhint: The server failed; its log has the reason (`tw-cli logs --filter error`, instance admin key).\n',
    );
  });

  it('keeps the path of a URL behind a reverse proxy (with or without the trailing slash)', async () => {
    const proxy = startProxy(t.url);
    servers.push(proxy.server);
    const base = await listen(proxy.server);
    for (const url of [`${base}/towline/`, `${base}/towline`]) {
      const run = await cli(['--url', url, 'webhook', 'list'], { TW_API_KEY: ADMIN_KEY });
      expect(run, url).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toContain('twice');
    }
    // The public endpoint too: webhook test posts the signed event through the proxy.
    const tested = await cli(['webhook', 'test', 'twice'], { TW_URL: `${base}/towline/`, TW_API_KEY: ADMIN_KEY });
    expect(tested).toMatchObject({ code: 0, stderr: '' });
    expect(proxy.paths).toEqual(expect.arrayContaining(['/towline/health', '/towline/api/webhooks', '/towline/api/webhooks/twice/test-event', '/towline/api/webhooks/twice']));
    expect(proxy.paths.every((p) => p.startsWith('/towline/'))).toBe(true);
    // Without the prefix the proxy's own 404 page answers: that is not Towline.
    expect((await cli(['--url', base, 'webhook', 'list'], { TW_API_KEY: ADMIN_KEY })).code).toBe(8);
  });

  it('login checks the key, then writes the config file 0600 in a 0700 directory; later runs use it', async () => {
    const xdg = join(TEMP, 'xdg');
    const file = join(xdg, 'towline', 'config.json');
    const refused = await cli(['login', '--url', t.url, '--api-key', 'tw_wrong-key-0123456789abcdefghijklmnopqrstu'], { XDG_CONFIG_HOME: xdg });
    expect(refused.code).toBe(3);
    expect(existsSync(file)).toBe(false);

    const login = await cli(['login', '--url', t.url, '--api-key', ADMIN_KEY], { XDG_CONFIG_HOME: xdg });
    expect(login).toMatchObject({ code: 0, stderr: '' });
    expect(login.stdout).toContain(`Saved to ${file} (mode 0600)`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(xdg, 'towline')).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ url: `${t.url}/`, api_key: ADMIN_KEY });

    // Neither flags nor environment: the file gives both.
    const fromFile = await cli(['webhook', 'list'], { XDG_CONFIG_HOME: xdg });
    expect(fromFile).toMatchObject({ code: 0, stderr: '' });
    expect(fromFile.stdout).toContain('twice');

    // flag > env > file, for the key and for the URL.
    const envKey = await cli(['webhook', 'list'], { XDG_CONFIG_HOME: xdg, TW_API_KEY: 'tw_env-key-0123456789abcdefghijklmnopqrstuvw' });
    expect(envKey.code).toBe(3);
    expect(envKey.stderr).toContain('The server refused TW_API_KEY');
    expect((await cli(['--api-key', ADMIN_KEY, 'webhook', 'list'], { XDG_CONFIG_HOME: xdg, TW_API_KEY: 'tw_env-key-0123456789abcdefghijklmnopqrstuvw' })).code).toBe(0);
    const closed = `http://127.0.0.1:${await closedPort()}`;
    expect((await cli(['webhook', 'list'], { XDG_CONFIG_HOME: xdg, TW_URL: closed })).code).toBe(7);
    expect((await cli(['--url', t.url, 'webhook', 'list'], { XDG_CONFIG_HOME: xdg, TW_URL: closed })).code).toBe(0);

    // A file others can read still works, with a warning saying how to fix it.
    chmodSync(file, 0o644);
    const loose = await cli(['webhook', 'list'], { XDG_CONFIG_HOME: xdg });
    expect(loose.code).toBe(0);
    expect(loose.stderr).toContain(`warning: ${file} holds an API key and is readable by others (mode 644): chmod 600 ${file}`);
    // Logging in again puts the mode right.
    expect((await cli(['login', '--url', t.url], { XDG_CONFIG_HOME: xdg }, `${ADMIN_KEY}\n`)).code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    expect((await cli(['logout'], { XDG_CONFIG_HOME: xdg })).stdout).toBe(`Removed ${file}.\n`);
    expect((await cli(['webhook', 'list'], { XDG_CONFIG_HOME: xdg, TW_URL: t.url })).code).toBe(3);
  });

  it('without XDG_CONFIG_HOME the file is ~/.config/towline/config.json; a broken file is an error that says what to do', async () => {
    const home = join(TEMP, 'home');
    mkdirSync(home);
    expect((await cli(['login'], { HOME: home, TW_URL: t.url, TW_API_KEY: ADMIN_KEY })).code).toBe(0);
    const file = join(home, '.config', 'towline', 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await cli(['incidents', 'list'], { HOME: home })).code).toBe(0);

    writeFileSync(file, '{not json', { mode: 0o600 });
    const broken = await cli(['incidents', 'list'], { HOME: home });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(new RegExp(`^error: ${file.replace(/[.]/g, '\\.')} is not JSON: .*\\nhint: Delete it and run \`tw-cli login\` again\\.\\n$`));
  });

  it("is on the PATH as the README sets it up: cli/bin and node_modules/.bin, from any directory", async () => {
    const run = await new Promise<Run>((resolve) => {
      const child = spawn('bash', ['-c', `export PATH="${ROOT}/cli/bin:${ROOT}/node_modules/.bin:$PATH"; cd /; tw-cli --version && tw-cli webhook list`], {
        env: { ...process.env, HOME: NO_HOME, XDG_CONFIG_HOME: '', ...env },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^0\.1\.0\nSOURCE\s+FORMAT/);
  });
});
