import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess } from '../support/server-process';
import { storedRows } from '../support/store-file';

const MAIN = join(__dirname, '..', '..', 'dist', 'src', 'main.js');
const root = mkdtempSync(join(tmpdir(), 'towline-startup-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
/** Runs the built server to its end (they all fail before listening) and returns what the operator sees. */
function boot(env: Record<string, string>) {
  const dataDir = join(root, `data-${counter++}`);
  const result = spawnSync(process.execPath, [MAIN], {
    env: { ...process.env, TW_HOST: '127.0.0.1', TW_PORT: '0', TW_LOG_LEVEL: 'warn', TW_DATA_DIR: dataDir, ...env },
    encoding: 'utf8',
    timeout: 25_000,
  });
  return { status: result.status, stderr: result.stderr.trim(), stdout: result.stdout };
}

const file = (name: string, text: string) => {
  const path = join(root, name);
  writeFileSync(path, text);
  return path;
};

/** One message on stderr, naming the problem, no stack trace, exit 78. */
function expectConfigurationProblem(result: ReturnType<typeof boot>, named: RegExp) {
  expect(result.status, result.stderr).toBe(78);
  expect(result.stderr).toMatch(named);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stdout).not.toMatch(/"level":50/);
}

describe('start-up problems end with one message naming them and exit 78', () => {
  it('a variable of the wrong type gets one reason, not every rule it breaks', () => {
    const result = boot({ TW_PORT: 'abc' });
    expectConfigurationProblem(result, /TW_PORT="abc"/);
    expect(result.stderr).toBe('Invalid configuration:\n  TW_PORT="abc": TW_PORT must be an integer number');
  });

  it('a TW_CONFIG file that is not YAML', () => {
    expectConfigurationProblem(boot({ TW_CONFIG: file('bad.yaml', 'sources: [') }), /bad\.yaml: not valid YAML/);
  });

  it('a TW_CONFIG file that does not exist', () => {
    expectConfigurationProblem(boot({ TW_CONFIG: join(root, 'missing.yaml') }), /TW_CONFIG: cannot read .*missing\.yaml/);
  });

  it('a ${VARIABLE} the environment does not set', () => {
    const path = file('env.yaml', 'sources:\n  a:\n    secret: "${TOWLINE_TEST_UNSET_SECRET}"\n');
    expectConfigurationProblem(boot({ TW_CONFIG: path }), /TOWLINE_TEST_UNSET_SECRET is not set/);
  });

  it('a misspelt key in a source', () => {
    const path = file('key.yaml', 'sources:\n  a:\n    secret: "abcdefghijkl"\n    auto_triag: true\n');
    expectConfigurationProblem(boot({ TW_CONFIG: path }), /key\.yaml: sources\.a: .*auto_triag/);
  });

  describe('a busy port', () => {
    let server: Server;
    let port: number;
    beforeAll(async () => {
      server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('names the address and says it is in use', () => {
      const result = boot({ TW_PORT: String(port) });
      expect(result.status).toBe(78);
      expect(result.stderr.split('\n').at(-1)).toBe(`Cannot listen on 127.0.0.1:${port} (TW_HOST, TW_PORT): the port is already in use by another process`);
      expect(result.stderr).not.toMatch(/^\s+at /m);
    });
  });
});

describe('the environment and the data directory at start', () => {
  it('warns about TW_* variables it does not know, but not about the CLI\'s', async () => {
    const server = await startServerProcess({ TW_DATA_DIR: join(root, 'warn'), TW_PROT: '8080', TW_URL: 'http://localhost:8080' });
    try {
      const warning = server.logs.find((l) => String(l.msg).startsWith('Ignoring environment variables'));
      expect(warning).toMatchObject({ level: 40, variables: ['TW_PROT'] });
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('keeps the data directory 0700 and every data file 0600, repairing what an older version left open', async () => {
    const dir = join(root, 'private');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const first = await startServerProcess({ TW_DATA_DIR: dir, TW_ADMIN_KEY: '' });
    first.child.kill('SIGTERM');
    await first.exited;
    for (const name of ['towline.db', 'read-models.db', 'master.key']) chmodSync(join(dir, name), 0o644);
    chmodSync(dir, 0o755);

    const second = await startServerProcess({ TW_DATA_DIR: dir, TW_ADMIN_KEY: '' });
    try {
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      for (const name of ['towline.db', 'towline.db-wal', 'towline.db-shm', 'read-models.db', 'read-models.db-wal', 'read-models.db-shm', 'master.key']) {
        expect(statSync(join(dir, name)).mode & 0o777, name).toBe(0o600);
      }
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});

describe('one data directory, one process', () => {
  it('refuses a second server on a running one\'s data directory before it writes anything, and takes it at once after a kill -9', async () => {
    const dataDir = join(root, 'shared-data');
    const config = file('shared.yaml', 'sources:\n  shared-source:\n    secret: "abcdefghijkl"\n');
    const first = await startServerProcess({ TW_DATA_DIR: dataDir, TW_CONFIG: config });
    try {
      // What is stored, not the file's time: the first server's own WAL checkpoints move that (on a worker thread).
      const before = storedRows(join(dataDir, 'towline.db'));
      const second = spawnSync(process.execPath, [MAIN], {
        env: { ...process.env, TW_HOST: '127.0.0.1', TW_PORT: '0', TW_LOG_LEVEL: 'warn', TW_DATA_DIR: dataDir, TW_CONFIG: config },
        encoding: 'utf8',
        timeout: 25_000,
      });
      expectConfigurationProblem({ status: second.status, stderr: second.stderr.trim(), stdout: second.stdout }, /is in use by another Towline process/);
      expect(storedRows(join(dataDir, 'towline.db'))).toEqual(before);
      expect((await fetch(`${first.url}/health/live`)).status).toBe(200);
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
    }
    // The operating system dropped the lock with the process: a restart gets the directory straight away.
    const again = await startServerProcess({ TW_DATA_DIR: dataDir, TW_CONFIG: config });
    expect((await fetch(`${again.url}/health/live`)).status).toBe(200);
    again.child.kill('SIGTERM');
    expect(await again.exited).toMatchObject({ code: 0 });
  });
});
