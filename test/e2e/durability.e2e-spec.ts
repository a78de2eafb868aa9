import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite.event-store';
import { verifyChain } from '../../src/event-store/hash-chain';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { ADMIN_KEY } from '../support/test-app';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'towline-durability-'));
  dirs.push(dir);
  return dir;
}

const auth = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };

/** Creates projects from `workers` concurrent loops until `stop()` is true; returns the acknowledged names. */
async function createProjects(server: ServerProcess, workers: number, stop: () => boolean): Promise<string[]> {
  const acknowledged: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!stop()) {
        const name = `p-${next++}`;
        try {
          const response = await fetch(`${server.url}/api/organisations/default/projects`, {
            method: 'POST',
            headers: auth,
            body: JSON.stringify({ name }),
          });
          if (response.status === 201) acknowledged.push(name);
        } catch {
          return; // the server is gone
        }
      }
    }),
  );
  return acknowledged;
}

async function projectNames(server: ServerProcess): Promise<Set<string>> {
  const response = await fetch(`${server.url}/api/organisations/default/projects`, { headers: auth });
  return new Set(((await response.json()) as { name: string }[]).map((p) => p.name));
}

async function verifyAllStreams(path: string): Promise<number> {
  const store = new SqliteEventStore(path);
  const streams = new Set((await store.readAll()).map((e) => e.stream));
  for (const stream of streams) expect(verifyChain(await store.readStream(stream)), stream).toMatchObject({ ok: true });
  await store.close();
  return streams.size;
}

describe('durability of acknowledged writes', () => {
  it('loses no acknowledged append when the process is killed with SIGKILL mid-load', async () => {
    const dir = dataDir();
    const env = { TW_DATA_DIR: dir, TW_ADMIN_KEY: ADMIN_KEY };
    const first = await startServerProcess(env);
    let killed = false;
    const load = createProjects(first, 16, () => killed);
    // Let a few hundred writes be acknowledged, then kill without warning while requests are in flight.
    while ((await projectNames(first)).size < 300) await new Promise((r) => setTimeout(r, 20));
    first.child.kill('SIGKILL');
    killed = true;
    const acknowledged = await load;
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(acknowledged.length).toBeGreaterThanOrEqual(300);

    const second = await startServerProcess(env);
    const stored = await projectNames(second);
    const lost = acknowledged.filter((name) => !stored.has(name));
    expect(lost).toEqual([]);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    expect(await verifyAllStreams(join(dir, 'towline.db'))).toBeGreaterThanOrEqual(2);
  });

  it('finishes in-flight requests and exits 0 on SIGTERM', async () => {
    const dir = dataDir();
    const env = { TW_DATA_DIR: dir, TW_ADMIN_KEY: ADMIN_KEY };
    const server = await startServerProcess(env);
    let stopped = false;
    const load = createProjects(server, 8, () => stopped);
    while ((await projectNames(server)).size < 50) await new Promise((r) => setTimeout(r, 10));
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    stopped = true;
    const acknowledged = await load;
    expect(exit.code).toBe(0);
    expect(server.logs.some((l) => l.level === 50)).toBe(false);

    const again = await startServerProcess(env);
    const stored = await projectNames(again);
    expect(acknowledged.filter((name) => !stored.has(name))).toEqual([]);
    again.child.kill('SIGTERM');
    await again.exited;
  });
});
