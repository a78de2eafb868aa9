import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandHandler, Saga, ofType, type ICommand, type ICommandHandler, type IEvent } from '@nestjs/cqrs';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { map, type Observable } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config';
import { SecretBox } from '../config/secret-box';
import { CoreModule } from '../core.module';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port';
import { SqliteEventStore } from '../event-store/sqlite/sqlite.event-store';
import { AppError } from '../http/app-error';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../read-model/read-model.database';
import { AggregateStore, type Aggregate } from './aggregate-store';
import { DomainEvent, toEventData, type EventContext } from './domain-event';
import { ReadSideRunner } from './read-side.runner';
import { StoreConsumer } from './store-consumer';

@DomainEvent('TestThingHappened')
class ThingHappened implements IEvent {
  constructor(readonly n: number) {}
}

class ReactToThing implements ICommand {
  constructor(readonly n: number) {}
}

const reactions: number[] = [];
const projected: number[] = [];
/** The "bug" in both consumers: fixed by clearing it, as a deploy would. */
const failing = new Set<number>();

@CommandHandler(ReactToThing)
class ReactToThingHandler implements ICommandHandler<ReactToThing> {
  async execute({ n }: ReactToThing): Promise<void> {
    if (failing.has(n)) throw new Error(`step ${n} fails`);
    reactions.push(n);
  }
}

@StoreConsumer({ name: 'test-saga', events: [ThingHappened], kind: 'reactor' })
@Injectable()
class ThingSaga {
  @Saga()
  thingHappened = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(ThingHappened),
      map((event) => new ReactToThing(event.n)),
    );
}

@StoreConsumer({ name: 'test-projection', events: [ThingHappened], tables: [] })
@Injectable()
class ThingProjection {
  handle(event: IEvent, context: EventContext): void {
    if (!(event instanceof ThingHappened) || !context.stream.startsWith('thing-')) return;
    if (failing.has(event.n)) throw new Error(`row ${event.n} does not fit`);
    projected.push(event.n);
  }
}

/** A read model with a table, whose version the test "upgrades" between boots. */
const tally = { name: 'test-tally', events: [ThingHappened], tables: ['test_tally'], queryIndexes: ['test_tally_by_version'], version: 1 };
/** Whether the query index existed when each event was applied. */
const indexedWhileApplying: boolean[] = [];
const TALLY_INDEX = 'CREATE INDEX test_tally_by_version ON test_tally (version, n)';
@StoreConsumer(tally)
@Injectable()
class TallyProjection {
  private readonly add;
  private readonly indexed;

  constructor(@Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase) {
    readModels.db.exec('CREATE TABLE IF NOT EXISTS test_tally (n INTEGER PRIMARY KEY, version INTEGER NOT NULL)');
    readModels.db.exec(TALLY_INDEX.replace('INDEX', 'INDEX IF NOT EXISTS'));
    this.add = readModels.db.prepare('INSERT INTO test_tally (n, version) VALUES (?, ?)');
    this.indexed = readModels.db.prepare("SELECT sql FROM sqlite_master WHERE name = 'test_tally_by_version'");
  }

  handle(event: IEvent): void {
    indexedWhileApplying.push(this.indexed.get() !== undefined);
    // Not idempotent on purpose: an event applied twice would fail on the primary key.
    if (event instanceof ThingHappened && !failing.has(event.n)) this.add.run(event.n, tally.version);
  }
}

/** A reactor that waits at a gate the test opens: the slow consumer the window must not wait for. */
const gate = { open: Promise.resolve(), release: () => undefined as void };
const slowSeen: number[] = [];
@StoreConsumer({ name: 'test-slow', events: [ThingHappened], kind: 'reactor' })
@Injectable()
class SlowReactor {
  async handle(event: IEvent, context: EventContext): Promise<void> {
    if (!(event instanceof ThingHappened) || !context.stream.startsWith('slow-')) return;
    await gate.open;
    slowSeen.push(event.n);
  }
}

/** A reactor that waits on a projection for a position the log never reaches: stopping must not hang on it. */
const waiting = { started: false, outcome: undefined as string | undefined };
@StoreConsumer({ name: 'test-waiting', events: [ThingHappened], kind: 'reactor' })
@Injectable()
class WaitingReactor {
  constructor(private readonly readSide: ReadSideRunner) {}

  async handle(_event: IEvent, context: EventContext): Promise<void> {
    if (!context.stream.startsWith('wait-')) return;
    waiting.started = true;
    try {
      await this.readSide.catchUp(['test-projection'], { commit: 10n ** 15n, prepare: 10n ** 15n }, 24 * 3_600_000);
      waiting.outcome = 'returned';
    } catch (error) {
      waiting.outcome = (error as Error).message;
      throw error;
    }
  }
}

@Module({ providers: [ReactToThingHandler, ThingSaga, ThingProjection, TallyProjection, SlowReactor, WaitingReactor] })
class TestFeatureModule {}

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

async function boot(dataDir: string, env: Record<string, string> = {}) {
  const config = loadConfig({ TW_DATA_DIR: dataDir, TW_LOG_LEVEL: 'silent', ...env });
  @Module({ imports: [CoreModule.forRoot(config, new SecretBox(randomBytes(32))), TestFeatureModule] })
  class TestRootModule {}
  const app = await NestFactory.createApplicationContext(TestRootModule, { logger: false });
  await app.init();
  app.get(ReadSideRunner).start();
  return app;
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('read side fed from the store', () => {
  it('parks an event that keeps failing, holds back only its partition, retries it in order once fixed, and resumes from checkpoints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'towline-runner-'));
    dirs.push(dir);
    const app = await boot(dir);
    const store = app.get<symbol, EventStore>(EVENT_STORE);
    const runner = app.get(ReadSideRunner);
    const [a, b, c] = ['a', 'b', 'c'].map((x) => `thing-${x}${randomUUID()}`);
    failing.add(2);
    await store.append(a, [toEventData(new ThingHappened(1), {})]);
    await store.append(b, [toEventData(new ThingHappened(2), {})]);
    await store.append(b, [toEventData(new ThingHappened(3), {})]);
    const { position } = await store.append(c, [toEventData(new ThingHappened(4), {})]);

    // 2 failed for good; 3 is in its stream, so it waits behind it; 1 and 4 went through.
    await runner.catchUp(['test-saga', 'test-projection'], position, 15_000);
    expect(reactions).toEqual([1, 4]);
    expect(projected).toEqual([1, 4]);
    for (const consumer of ['test-saga', 'test-projection']) {
      expect(runner.status().find((s) => s.name === consumer)).toMatchObject({ state: 'live', parked: 2 });
      const parked = runner.parkedEvents(consumer);
      expect(parked.map((p) => [p.stream, p.status, p.revision])).toEqual([
        [b, 'failed', 0n],
        [b, 'waiting', 1n],
      ]);
      expect(parked[0].error).toContain('2');
    }
    expect(runner.isParked(b)).toBe(true);
    expect(runner.isParked(a)).toBe(false);

    // Still failing: the retry stops at the first event and keeps both.
    expect(await runner.retryParked('test-projection')).toEqual([
      { consumer: 'test-projection', partition: b, handled: 0, stillParked: 2, error: expect.stringContaining('does not fit') },
    ]);
    await app.close();

    // Parked events survive a restart; written while nothing was running, 5 is picked up, nothing is handled twice.
    const offline = new SqliteEventStore(join(dir, 'towline.db'));
    await offline.append(a, [toEventData(new ThingHappened(5), {})]);
    await offline.close();
    const again = await boot(dir);
    const runner2 = again.get(ReadSideRunner);
    await until(() => projected.length === 3 && reactions.length === 3);
    expect(runner2.parkedEvents().length).toBe(4);

    failing.clear();
    expect(await runner2.retryParked('test-projection')).toEqual([{ consumer: 'test-projection', partition: b, handled: 2, stillParked: 0, error: null }]);
    expect(await runner2.retryParked('test-saga', b)).toEqual([{ consumer: 'test-saga', partition: b, handled: 2, stillParked: 0, error: null }]);
    expect(projected).toEqual([1, 4, 5, 2, 3]);
    expect(reactions).toEqual([1, 4, 5, 2, 3]);
    expect(runner2.parkedEvents()).toEqual([]);
    expect(runner2.isParked(b)).toBe(false);

    // Released: the partition's next event goes straight through.
    const { position: next } = await (again.get<symbol, EventStore>(EVENT_STORE)).append(b, [toEventData(new ThingHappened(6), {})]);
    await runner2.catchUp(['test-saga', 'test-projection'], next);
    expect(projected.at(-1)).toBe(6);
    expect(reactions.at(-1)).toBe(6);
    await again.close();
  });
});

describe('the log window', () => {
  it('leaves a consumer slower than the window to read from the store, and says it is catching up until it is back', async () => {
    let release!: () => void;
    gate.open = new Promise<void>((resolve) => (release = resolve));
    const app = await boot(':memory:', { TW_READ_SIDE_WINDOW: '100' });
    const store = app.get<symbol, EventStore>(EVENT_STORE);
    const runner = app.get(ReadSideRunner);
    const stream = `slow-${randomUUID()}`;
    let last;
    for (let n = 1; n <= 400; n++) last = await store.append(`${stream}${n}`, [toEventData(new ThingHappened(10_000 + n), {})]);

    // The others went on to the end; the slow one fell out of the window, and status says so.
    await runner.catchUp(['test-projection', 'test-tally'], last!.position);
    const slow = () => runner.status().find((s) => s.name === 'test-slow')!;
    expect(slow()).toMatchObject({ state: 'catching_up' });
    expect(slowSeen).toEqual([]);

    release();
    await runner.catchUp(['test-slow'], last!.position, 15_000);
    expect(slowSeen).toEqual(Array.from({ length: 400 }, (_, i) => 10_001 + i));
    await until(() => slow().state === 'live');
    await app.close();
    gate.open = Promise.resolve();
  });
});

describe('stopping', () => {
  it('wakes a reactor waiting on a read model, which fails its batch instead of going on as if it had been reached', async () => {
    const app = await boot(':memory:');
    const store = app.get<symbol, EventStore>(EVENT_STORE);
    await store.append(`wait-${randomUUID()}`, [toEventData(new ThingHappened(1), {})]);
    await until(() => waiting.started);
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(waiting.outcome).toMatch(/stopped before 'test-projection' reached/);
  });
});

describe('versioned read models', () => {
  it('rebuilds a projection from zero, in the background, when its version changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'towline-versions-'));
    dirs.push(dir);
    const app = await boot(dir);
    const store = app.get<symbol, EventStore>(EVENT_STORE);
    let last;
    for (const n of [101, 102, 103]) last = await store.append(`thing-v${randomUUID()}`, [toEventData(new ThingHappened(n), {})]);
    await app.get(ReadSideRunner).catchUp(['test-tally'], last!.position);
    await app.close();

    tally.version = 2;
    const upgraded = await boot(dir);
    const runner = upgraded.get(ReadSideRunner);
    const readModels = upgraded.get<symbol, ReadModelDatabase>(READ_MODEL_DATABASE);
    await until(() => runner.status().find((s) => s.name === 'test-tally')?.state === 'live');
    const rows = readModels.db.prepare('SELECT n, version FROM test_tally ORDER BY n').all();
    expect(rows).toEqual([101, 102, 103].map((n) => ({ n, version: 2 })));
    expect(readModels.consumerState('test-tally')?.version).toBe(2);
    // Its query index was dropped for the rebuild and is back, as the projection creates it, once it is live.
    expect(indexedWhileApplying.slice(-3)).toEqual([false, false, false]);
    expect(readModels.db.prepare("SELECT sql FROM sqlite_master WHERE name = 'test_tally_by_version'").get()).toEqual({ sql: TALLY_INDEX });
    await upgraded.close();

    // The same version again: nothing is rebuilt (the primary key would refuse a second application).
    const again = await boot(dir);
    await until(() => again.get(ReadSideRunner).status().find((s) => s.name === 'test-tally')?.state === 'live');
    expect(again.get<symbol, ReadModelDatabase>(READ_MODEL_DATABASE).db.prepare('SELECT count(*) AS n FROM test_tally').get()).toEqual({ n: 3 });
    expect(again.get(ReadSideRunner).parkedEvents('test-tally')).toEqual([]);
    await again.close();
    tally.version = 1;
  });
});

describe('AggregateStore', () => {
  const counter: Aggregate<number> = {
    initial: () => 0,
    evolve: (state, event) => (event instanceof ThingHappened ? state + 1 : state),
  };

  it('runs concurrent commands on one stream one after another, each on fresh state', async () => {
    const app = await boot(':memory:');
    const aggregates = app.get(AggregateStore);
    const stream = `thing-${randomUUID()}`;
    const results = await Promise.all(
      Array.from({ length: 50 }, () => aggregates.execute(stream, counter, (state) => [new ThingHappened(state + 1)])),
    );
    expect(results.map((r) => r.state).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await app.close();
  });

  it('re-decides after a write from elsewhere, and answers 409 conflict when that never stops', async () => {
    const app = await boot(':memory:');
    const aggregates = app.get(AggregateStore);
    const store = app.get<symbol, EventStore>(EVENT_STORE);
    const stream = `thing-${randomUUID()}`;
    const otherWriter = () => store.append(stream, [toEventData(new ThingHappened(0), {})]);

    let interfered = false;
    const once = await aggregates.execute(stream, counter, (state) => {
      if (!interfered) {
        interfered = true;
        void otherWriter();
      }
      return [new ThingHappened(state + 1)];
    });
    expect(once.state).toBe(2);

    const error = await aggregates
      .execute(stream, counter, (state) => {
        void otherWriter();
        return [new ThingHappened(state + 1)];
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 409, code: 'conflict' });
    await app.close();
  });
});
