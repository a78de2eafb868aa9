import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../../test/support/receiver';
import { WalCheckpointer } from './wal-checkpointer';

describe('WalCheckpointer', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('folds a WAL into the database file from its worker thread while the writer does not checkpoint', async () => {
    dir = mkdtempSync(join(tmpdir(), 'towline-wal-'));
    const file = join(dir, 'test.db');
    const db = new DatabaseSync(file);
    db.exec('PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (x TEXT)');
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    db.exec('BEGIN');
    for (let i = 0; i < 4_000; i++) insert.run(`${i}`.padEnd(1_000, '.'));
    db.exec('COMMIT');
    // Everything is in the WAL: with automatic checkpoints off, the database file holds only its first pages.
    expect(statSync(file).size).toBeLessThan(64 * 1024);
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(4_000_000);

    const checkpointer = new WalCheckpointer(file);
    await eventually(() => statSync(file).size > 4_000_000, 10_000, 'the worker to checkpoint the WAL');
    await checkpointer.stop();

    expect((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(4_000);
    db.close();
  });

  it('keeps a process that awaits close() alive until the worker is gone (the built store, in a process of its own)', () => {
    dir = mkdtempSync(join(tmpdir(), 'towline-wal-'));
    // An unreferenced worker's exit keeps nothing alive: awaiting it alone once let the process end silently,
    // with code 0, in the middle of an await (a benchmark's child vanished so).
    const store = resolve(__dirname, '../../../dist/src/event-store/sqlite/sqlite.event-store.js');
    const program = `
      const { SqliteEventStore } = require(${JSON.stringify(store)});
      (async () => {
        const store = new SqliteEventStore(${JSON.stringify(join(dir, 'towline.db'))});
        // Its worker running (a timer here would keep the process alive through the close: none is left).
        await new Promise((resolve) => setTimeout(resolve, 500));
        await store.close();
        console.log('closed');
      })();`;
    const run = spawnSync(process.execPath, ['-e', program], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('closed');
  });

  it('keeps the WAL bounded under a steady stream of commits, with the owner checkpointing past its threshold', async () => {
    dir = mkdtempSync(join(tmpdir(), 'towline-wal-'));
    const file = join(dir, 'test.db');
    const db = new DatabaseSync(file);
    // 100 pages instead of WAL_AUTOCHECKPOINT_PAGES, so that a short test goes round the WAL many times.
    db.exec('PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 100; CREATE TABLE t (x TEXT)');
    const checkpointer = new WalCheckpointer(file);
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    let largest = 0;
    for (let round = 0; round < 400; round++) {
      db.exec('BEGIN');
      for (let i = 0; i < 50; i++) insert.run(`${round}.${i}`.padEnd(1_000, '.'));
      db.exec('COMMIT');
      largest = Math.max(largest, statSync(`${file}-wal`).size);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await checkpointer.stop();
    // 20 MB were written; the WAL stayed near its threshold (100 pages) plus one transaction (~50 KiB).
    expect(largest).toBeLessThan(2_000_000);
    expect((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(20_000);
    db.close();
  });
});
