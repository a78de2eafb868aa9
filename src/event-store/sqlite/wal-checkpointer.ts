import { Worker } from 'node:worker_threads';

/**
 * How often the worker folds the WAL back into the database file. Every second left more to copy per round,
 * and the growth benchmark's p99 on a million-event store rose from 140 to 207 ms (1.59× → 2.13× the empty
 * store's); at this interval the 1 s append benchmark loses a little to the worker's start-up, which a 20,000
 * append run shows to be all of it (4.57× against 4.45× before the worker).
 */
const CHECKPOINT_EVERY_MS = 250;

/**
 * The owner's own automatic checkpoint, set with `PRAGMA wal_autocheckpoint`: 10× SQLite's default (40 MiB of
 * 4 KiB pages). Under a steady stream of commits a checkpoint on another thread never finds the WAL fully
 * copied at the moment a write starts, which is the only moment SQLite rewinds the WAL, so the WAL would grow
 * without bound (4.5 GB in 15 minutes of catch-up, with every read slower for it). Past this size the owner's
 * commit checkpoints, finds nearly everything copied already by the worker, and the next write rewinds the WAL.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/** `PRAGMA journal_size_limit` for the owners: the WAL file's size kept after it rewinds (64 MiB). */
export const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * The worker's whole program. Inline, so the same code runs from `dist` and from the TypeScript sources the
 * tests load, with no file of its own to resolve. A PASSIVE checkpoint never waits for or blocks the writer:
 * it copies what it can and leaves the rest for the next round.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path);
const checkpoint = () => {
  try {
    db.exec('PRAGMA wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or closing: the next round, or the last connection's close, checkpoints.
  }
};
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Runs a SQLite WAL file's checkpoints on a worker thread, off the event loop. SQLite otherwise checkpoints
 * inside the COMMIT that takes the WAL past 1,000 pages, on the connection that commits: copying those pages
 * into the database file and syncing it stalled the main thread — 8 % of the inbound benchmark's CPU, more
 * than any projection. The owner raises its own connection's threshold to WAL_AUTOCHECKPOINT_PAGES (a bound
 * on the WAL, see there) and starts one of these beside it; `stop` before closing the connection, whose
 * close then checkpoints what is left, as the last connection.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly stopped: Promise<void>;

  constructor(path: string) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, everyMs: CHECKPOINT_EVERY_MS } });
    // It must never keep the process alive, nor take it down: a checkpoint missed is only a longer WAL.
    this.worker.unref();
    this.worker.on('error', () => undefined);
    this.stopped = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  /** Stops the rounds and closes the worker's connection. */
  async stop(): Promise<void> {
    // Held from here: an unreferenced worker's exit is no reason to stay, so awaiting it could end the process.
    this.worker.ref();
    this.worker.postMessage('stop');
    await this.stopped;
  }
}
