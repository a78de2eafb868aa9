import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess } from '../support/server-process';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const GENERATED = /Keep it: (tw_[A-Za-z0-9_-]{43})/;

describe('first start and configuration', () => {
  it('generates the admin key once, prints it once, and keeps accepting it after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'towline-bootstrap-'));
    dirs.push(dir);
    const env = { TW_DATA_DIR: dir, TW_ADMIN_KEY: '' };

    const first = await startServerProcess(env);
    const printed = first.logs.map((l) => String(l.msg)).filter((msg) => GENERATED.test(msg));
    expect(printed).toHaveLength(1);
    const key = GENERATED.exec(printed[0])![1];
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
    const orgs = await fetch(`${first.url}/api/organisations`, { headers: { authorization: `Bearer ${key}` } });
    expect(orgs.status).toBe(200);
    first.child.kill('SIGTERM');
    await first.exited;

    const second = await startServerProcess(env);
    expect(second.logs.some((l) => GENERATED.test(String(l.msg)))).toBe(false);
    const again = await fetch(`${second.url}/api/organisations`, { headers: { authorization: `Bearer ${key}` } });
    expect(again.status).toBe(200);
    const wrong = await fetch(`${second.url}/api/organisations`, { headers: { authorization: `Bearer tw_${'A'.repeat(43)}` } });
    expect(wrong.status).toBe(401);
    second.child.kill('SIGTERM');
    await second.exited;
  });

  it('refuses to boot on a bad variable, naming it', () => {
    const result = spawnSync(process.execPath, [join(__dirname, '..', '..', 'dist', 'src', 'main.js')], {
      env: { ...process.env, TW_PORT: 'eighty', TW_DATA_DIR: ':memory:' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('TW_PORT="eighty"');
  });
});
