import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { CommandBus, type ICommand, type IEvent } from '@nestjs/cqrs';
import { lastValueFrom, of, toArray, type Observable } from 'rxjs';
import {
  EVENT_STORE,
  comparePositions,
  type EventStore,
  type Position,
  type RecordedEvent,
  type Subscription,
} from '../event-store/event-store.port';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../read-model/read-model.database';
import { contextOf, eventTypeOf, hydrate } from './domain-event';
import { runWithContext } from './request-context';
import { STORE_CONSUMER, type StoreConsumerHandler, type StoreConsumerOptions } from './store-consumer';

/** @nestjs/cqrs keeps @Saga() property names under this key; its constants are not exported. */
const SAGA_METADATA = '__saga__';
const ATTEMPTS = 5;
const RESTART_DELAY_MS = 2_000;

type Saga = (events$: Observable<IEvent>) => Observable<ICommand>;

export interface ConsumerStatus {
  name: string;
  state: 'catching_up' | 'live' | 'restarting' | 'stopped';
  position: string | null;
  failures: number;
}

interface Running {
  options: StoreConsumerOptions;
  handler: StoreConsumerHandler;
  sagas: Saga[];
  subscription?: Subscription;
  processed?: Position;
  state: ConsumerStatus['state'];
  failures: number;
  waiters: Set<() => void>;
  restartTimer?: NodeJS.Timeout;
}

/**
 * Feeds every @StoreConsumer from the event store's subscription, each from its own checkpoint, so a restart
 * resumes where it stopped and nothing acknowledged is lost. Sagas are run one event at a time
 * (`saga(of(event))`): an error in one event's pipeline ends only that little stream, never the saga —
 * the well-known way an @nestjs/cqrs saga silently dies.
 */
@Injectable()
export class ReadSideRunner implements OnModuleInit {
  private readonly logger = new Logger(ReadSideRunner.name);
  private readonly consumers = new Map<string, Running>();
  private stopping = false;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly commandBus: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_DATABASE) private readonly readModels: ReadModelDatabase,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as StoreConsumerHandler | undefined;
      if (!instance || !wrapper.metatype) continue;
      const options = Reflect.getMetadata(STORE_CONSUMER, wrapper.metatype) as StoreConsumerOptions | undefined;
      if (!options) continue;
      if (this.consumers.has(options.name)) throw new Error(`Two store consumers are named '${options.name}'`);
      const sagaKeys = (Reflect.getMetadata(SAGA_METADATA, wrapper.metatype) ?? []) as string[];
      const sagas = sagaKeys.map((key) => (instance as unknown as Record<string, Saga>)[key].bind(instance));
      if (!instance.handle && sagas.length === 0) throw new Error(`Store consumer '${options.name}' has no handle() and no @Saga()`);
      this.consumers.set(options.name, { options, handler: instance, sagas, state: 'catching_up', failures: 0, waiters: new Set() });
    }
  }

  /**
   * Called by the app factory once the whole application is initialised: sagas dispatch commands, and the
   * CommandBus only knows its handlers after every onApplicationBootstrap has run.
   */
  start(): void {
    for (const running of this.consumers.values()) this.subscribe(running);
  }

  /** Stops every consumer after its in-flight event; called by CoreModule before the store closes. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.consumers.values()].map(async (running) => {
        clearTimeout(running.restartTimer);
        running.state = 'stopped';
        await running.subscription?.stop();
        running.waiters.forEach((wake) => wake());
      }),
    );
  }

  status(): ConsumerStatus[] {
    return [...this.consumers.values()].map((r) => ({
      name: r.options.name,
      state: r.state,
      position: r.processed ? `${r.processed.commit}/${r.processed.prepare}` : null,
      failures: r.failures,
    }));
  }

  /**
   * Read-your-writes: resolves once the named consumers have handled everything up to `position` (the
   * position a command's append returned), or after `timeoutMs`, so an API answer reflects its own write.
   */
  async catchUp(names: string[], position: Position, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const name of names) {
      const running = this.consumers.get(name);
      if (!running) throw new Error(`No store consumer named '${name}'`);
      while (!this.stopping && (!running.processed || comparePositions(running.processed, position) < 0)) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          this.logger.warn(`Consumer '${name}' did not reach ${position.commit} in ${timeoutMs} ms`);
          return;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, remaining);
          running.waiters.add(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
  }

  private subscribe(running: Running): void {
    const { options } = running;
    const after = this.readModels.checkpoint(options.name);
    running.processed ??= after;
    running.state = 'catching_up';
    running.subscription = this.store.subscribeToAll(
      { after: running.processed, filter: { eventTypes: options.events.map(eventTypeOf) } },
      {
        onEvent: async (recorded) => {
          await this.deliver(running, recorded);
          this.readModels.storeCheckpoint(options.name, recorded.position);
          running.processed = recorded.position;
          const waiters = [...running.waiters];
          running.waiters.clear();
          waiters.forEach((wake) => wake());
        },
        onCaughtUp: () => {
          running.state = 'live';
        },
        onError: (error) => {
          if (this.stopping) return;
          running.failures += 1;
          running.state = 'restarting';
          this.logger.error(`Consumer '${options.name}' stopped: ${(error as Error).stack ?? String(error)}; restarting from its checkpoint`);
          running.restartTimer = setTimeout(() => this.subscribe(running), RESTART_DELAY_MS);
        },
      },
    );
  }

  private async deliver(running: Running, recorded: RecordedEvent): Promise<void> {
    const event = hydrate(recorded);
    if (!event) return;
    const context = contextOf(recorded);
    const work = async () => {
      await running.handler.handle?.(event, context);
      for (const saga of running.sagas) {
        const commands = await lastValueFrom(saga(of(event)).pipe(toArray()));
        for (const command of commands) await this.commandBus.execute(command);
      }
    };
    const correlationId = typeof recorded.metadata.$correlationId === 'string' ? recorded.metadata.$correlationId : recorded.id;
    for (let attempt = 1; ; attempt++) {
      try {
        await runWithContext({ correlationId, causationId: recorded.id, actor: `system:${running.options.name}` }, work);
        return;
      } catch (error) {
        if (attempt >= ATTEMPTS) {
          if (running.options.kind === 'saga') {
            running.failures += 1;
            this.logger.error(
              `Saga '${running.options.name}' gave up on event ${recorded.id} (${recorded.type}) after ${attempt} attempts: ${String(error)}`,
            );
            return;
          }
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      }
    }
  }
}
