import { Injectable, Module } from '@nestjs/common';
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

@CommandHandler(ReactToThing)
class ReactToThingHandler implements ICommandHandler<ReactToThing> {
  async execute({ n }: ReactToThing): Promise<void> {
    if (n === 2) throw new Error('this step always fails');
    reactions.push(n);
  }
}

@StoreConsumer({ name: 'test-saga', events: [ThingHappened], kind: 'saga' })
@Injectable()
class ThingSaga {
  @Saga()
  thingHappened = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(ThingHappened),
      map((event) => new ReactToThing(event.n)),
    );
}

@StoreConsumer({ name: 'test-projection', events: [ThingHappened] })
@Injectable()
class ThingProjection {
  handle(event: IEvent, context: EventContext): void {
    if (event instanceof ThingHappened && context.stream.startsWith('thing-')) projected.push(event.n);
  }
}

@Module({ providers: [ReactToThingHandler, ThingSaga, ThingProjection] })
class TestFeatureModule {}

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

async function boot(dataDir: string) {
  const config = loadConfig({ TW_DATA_DIR: dataDir, TW_LOG_LEVEL: 'silent' });
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
  it('keeps a saga running past an event whose step keeps failing, and resumes consumers from their checkpoints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'towline-runner-'));
    dirs.push(dir);
    const app = await boot(dir);
    const store = app.get<symbol, EventStore>(EVENT_STORE);
    const runner = app.get(ReadSideRunner);
    const stream = `thing-${randomUUID()}`;
    for (const n of [1, 2, 3]) await store.append(stream, [toEventData(new ThingHappened(n), {})]);

    await until(() => reactions.includes(3));
    expect(reactions).toEqual([1, 3]);
    expect(projected).toEqual([1, 2, 3]);
    expect(runner.status().find((s) => s.name === 'test-saga')).toMatchObject({ state: 'live', failures: 1 });
    await app.close();

    // Written while nothing was running: picked up after restart, and nothing before it is handled again.
    const offline = new SqliteEventStore(join(dir, 'towline.db'));
    await offline.append(stream, [toEventData(new ThingHappened(4), {})]);
    await offline.close();
    const again = await boot(dir);
    await until(() => projected.length === 4);
    await until(() => reactions.includes(4));
    expect(projected).toEqual([1, 2, 3, 4]);
    expect(reactions).toEqual([1, 3, 4]);
    await again.close();
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
