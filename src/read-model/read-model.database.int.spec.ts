import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReadModelDatabase } from './read-model.database';

const dir = mkdtempSync(join(tmpdir(), 'towline-read-models-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ReadModelDatabase checkpoints', () => {
  it('keeps each consumer’s last position across a reopen, and moves it forward', () => {
    const first = new ReadModelDatabase(dir);
    expect(first.checkpoint('projection-a')).toBeUndefined();
    first.storeCheckpoint('projection-a', { commit: 41n, prepare: 41n });
    first.storeCheckpoint('projection-a', { commit: 42n, prepare: 42n });
    first.storeCheckpoint('projection-b', { commit: 7n, prepare: 6n });
    first.close();

    const reopened = new ReadModelDatabase(dir);
    expect(reopened.checkpoint('projection-a')).toEqual({ commit: 42n, prepare: 42n });
    expect(reopened.checkpoint('projection-b')).toEqual({ commit: 7n, prepare: 6n });
    reopened.close();
  });
});
