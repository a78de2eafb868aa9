import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/**
 * Each server and each replay runs in a child process of its own, driven over IPC by bench/run.ts:
 * - the load generator (autocannon, in the parent) never shares an event loop with the server it measures —
 *   on two cores, one for each;
 * - a process's RSS and peak RSS are the server's or the rebuild's alone, not what earlier benchmarks left
 *   in the heap.
 * A role (child-main.ts) starts, reports `ready` with what the parent needs (a URL, say), then answers calls
 * until `stop`.
 */

export interface Role<Options, Ready> {
  start(options: Options): Promise<{ ready: Ready; handlers: Record<string, (args: any) => Promise<unknown>> }>;
}

export interface Child<Ready> {
  ready: Ready;
  call<T>(op: string, args?: unknown): Promise<T>;
  /** Calls the role's `stop`, then waits for the process to exit (killing it if it does not within 60 s). */
  stop(): Promise<void>;
}

interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

export async function startChild<Ready>(role: string, options: unknown, startTimeoutMs = 20 * 60_000): Promise<Child<Ready>> {
  // `advanced` serialization carries bigints and Maps; the child runs on the same Node as this process.
  const child: ChildProcess = fork(join(__dirname, 'child-main.js'), [role], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let next = 0;
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  void exit.then(() => {
    for (const { reject } of waiting.values()) reject(new Error(`bench child '${role}' exited`));
    waiting.clear();
  });
  child.on('message', (message: Reply) => {
    const pending = waiting.get(message.id);
    if (!pending) return;
    waiting.delete(message.id);
    if (message.error !== undefined) pending.reject(new Error(`bench child '${role}': ${message.error}`));
    else pending.resolve(message.result);
  });
  const call = <T>(op: string, args?: unknown, timeoutMs = 20 * 60_000): Promise<T> => {
    if (exited) return Promise.reject(new Error(`bench child '${role}' has exited`));
    const id = next++;
    return new Promise<T>((resolve, reject) => {
      // Every call ends by itself: a hung child fails the benchmark instead of hanging the run.
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`bench child '${role}': '${op}' did not answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      waiting.set(id, {
        resolve: (value) => (clearTimeout(timer), resolve(value as T)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      child.send({ id, op, args });
    });
  };
  const stop = async () => {
    if (!exited) {
      await call('stop', undefined, 60_000).catch(() => undefined);
      const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exit;
      clearTimeout(killer);
    }
  };
  try {
    const ready = await call<Ready>('start', options, startTimeoutMs);
    return { ready, call: (op, args) => call(op, args), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The child's side: `start` runs the role, every later message calls one of its handlers. */
export function serveRole<Options, Ready>(role: Role<Options, Ready>): void {
  let handlers: Record<string, (args: any) => Promise<unknown>> = {};
  const answer = (id: number, work: () => Promise<unknown>) =>
    work().then(
      (result) => process.send!({ id, result }),
      (error: unknown) => process.send!({ id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  process.on('message', ({ id, op, args }: { id: number; op: string; args: unknown }) => {
    if (op === 'start') {
      void answer(id, async () => {
        const started = await role.start(args as Options);
        handlers = started.handlers;
        return started.ready;
      });
    } else if (op === 'stop') {
      void answer(id, async () => {
        await handlers.stop?.(undefined);
        // Exit once the answer is out; the parent waits for the exit.
        setImmediate(() => process.disconnect());
      });
    } else {
      const handler = handlers[op];
      void answer(id, () => (handler ? handler(args) : Promise.reject(new Error(`no operation '${op}'`))));
    }
  });
  // The parent gone means nobody will ever call stop: leave instead of running forever.
  process.on('disconnect', () => setTimeout(() => process.exit(0), 100).unref());
}
