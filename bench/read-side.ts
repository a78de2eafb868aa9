import type { ReadSideRunner } from '../src/cqrs/read-side.runner';
import { comparePositions, decodePosition, type EventStore } from '../src/event-store/event-store.port';

export interface CaughtUp {
  /** Whether every named consumer saw the log up to its head before the timeout. */
  caughtUp: boolean;
  ms: number;
  /** Date.now() when it was reached (or when it gave up): comparable across the bench's processes. */
  at: number;
}

/**
 * Waits until the named consumers (default: all) have seen the store up to its head, and the head has stopped
 * moving meanwhile — consumers append too (the queue worker opens incidents, producers record security
 * events), so one catch-up to one head is not enough. This is the benchmarks' definition of "the read side
 * has caught up".
 */
export async function waitForHead(runner: ReadSideRunner, store: EventStore, timeoutMs: number, names?: string[]): Promise<CaughtUp> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  const consumers = names ?? runner.status().map((c) => c.name);
  for (;;) {
    const head = await store.headPosition();
    const done = () => ({ ms: Date.now() - started, at: Date.now() });
    if (!head) return { caughtUp: true, ...done() };
    const remaining = deadline - Date.now();
    if (remaining <= 0) return { caughtUp: false, ...done() };
    await runner.catchUp(consumers, head, remaining);
    const status = new Map(runner.status().map((c) => [c.name, c.position]));
    const reached = consumers.every((name) => {
      const position = status.get(name);
      return position != null && comparePositions(decodePosition(position), head) >= 0;
    });
    const now = await store.headPosition();
    if (reached && now && comparePositions(now, head) === 0) return { caughtUp: true, ...done() };
    if (!reached && Date.now() >= deadline) return { caughtUp: false, ...done() };
  }
}

/**
 * Waits for a pipeline of consumers: each in turn up to the head of the store as it is once the one before
 * has finished — e.g. the queue worker (which appends the incidents), then the incident list. Unlike
 * waitForHead it does not wait for consumers outside the pipeline, which keep appending meanwhile.
 */
export async function waitForPipeline(runner: ReadSideRunner, store: EventStore, names: string[], timeoutMs: number): Promise<CaughtUp> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  for (const name of names) {
    const head = await store.headPosition();
    if (!head) continue;
    await runner.catchUp([name], head, Math.max(1, deadline - Date.now()));
    const position = runner.status().find((c) => c.name === name)?.position;
    if (position == null || comparePositions(decodePosition(position), head) < 0) {
      return { caughtUp: false, ms: Date.now() - started, at: Date.now() };
    }
  }
  return { caughtUp: true, ms: Date.now() - started, at: Date.now() };
}

/** Waits until nothing has been appended for `quietMs` (bounded by `timeoutMs`): the app's background work is done. */
export async function waitForQuiet(store: EventStore, quietMs: number, timeoutMs: number): Promise<{ ms: number; events: number }> {
  const started = Date.now();
  const first = (await store.headPosition())?.commit ?? 0n;
  let last = first;
  let quietSince = Date.now();
  while (Date.now() - quietSince < quietMs && Date.now() - started < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const head = (await store.headPosition())?.commit ?? 0n;
    if (head !== last) {
      last = head;
      quietSince = Date.now();
    }
  }
  return { ms: Date.now() - started, events: Number(last - first) };
}
