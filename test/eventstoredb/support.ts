import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'vitest';

/** Set by .ci/run (against the protocol fake) or by a user (against a real node). */
export const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

/** The fake's control port, when the suite runs against it (FAKE_CTL_PORT, as the fake reads it). */
export const fakeControl = process.env.ESDB_FAKE_CONTROL_URL;

/** No server can run on the build machines by default: say so loudly instead of passing silently. */
export function describeSkipped(name: string): void {
  console.warn(`SKIPPED: ${name} (set EVENTSTORE_CONNECTION_STRING to run it against a server)`);
  describe(name, () => {
    it.skip('SKIPPED: EVENTSTORE_CONNECTION_STRING is not set, so no EventStoreDB server to run against', () => {});
  });
}

export interface FakeStats {
  calls: Record<string, number>;
  eventsSentByReads: number;
  eventsSentBySubscriptions: number;
  logSize: number;
}

/** The protocol fake's counters (see ../shared/tools/esdb-fake/README.md); undefined on a real node. */
export async function fakeStats(): Promise<FakeStats | undefined> {
  if (!fakeControl) return undefined;
  return (await fetch(`${fakeControl}/stats`)).json() as Promise<FakeStats>;
}

export async function fakeCall(path: string): Promise<void> {
  if (!fakeControl) throw new Error('ESDB_FAKE_CONTROL_URL is not set: this needs the protocol fake');
  const response = await fetch(`${fakeControl}${path}`);
  await response.text();
}

/**
 * Requests the server answered: reads and subscriptions, and appends — each request on the client's one
 * long-lived BatchAppend call counts, not the call itself.
 */
export function callsOf(stats: FakeStats): number {
  const { calls } = stats;
  return (calls.read ?? 0) + (calls.append ?? 0) + (calls['batchAppend.request'] ?? 0);
}

/** The protocol fake's script: ESDB_FAKE_SCRIPT (set by .ci/run), or its place beside the project. */
export const fakeScript = ((): string | undefined => {
  const candidates = [process.env.ESDB_FAKE_SCRIPT, join(__dirname, '../../../shared/tools/esdb-fake/fake-esdb.cjs')];
  return candidates.find((path): path is string => !!path && existsSync(path));
})();

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface OwnFake {
  connectionString: string;
  control: string;
  stop(): Promise<void>;
}

/**
 * A protocol fake of its own, for suites that inject faults (NotLeader, stalls, dropped connections): on the
 * fake every suite shares, those would fail the others' calls.
 */
export async function startOwnFake(): Promise<OwnFake> {
  if (!fakeScript) throw new Error('the protocol fake is not available');
  const [port, controlPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [fakeScript], {
    cwd: join(__dirname, '../..'),
    env: { ...process.env, FAKE_PORT: String(port), FAKE_CTL_PORT: String(controlPort) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the protocol fake did not start in 10 s')), 10_000);
    child.once('exit', (code) => reject(new Error(`the protocol fake exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    connectionString: `esdb://127.0.0.1:${port}?tls=false`,
    control: `http://127.0.0.1:${controlPort}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
