import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { join } from 'node:path';
import { APP_CONFIG, type AppConfig } from './config/config';
import { ConfigFile } from './config/config-file';
import { SECRET_BOX, SecretBox } from './config/secret-box';
import { AggregateStore } from './cqrs/aggregate-store';
import { ReadSideRunner } from './cqrs/read-side.runner';
import { ReadYourWrites } from './cqrs/read-your-writes';
import { EVENT_STORE, type EventStore } from './event-store/event-store.port';
import { EventStoreDbEventStore } from './event-store/eventstoredb/eventstoredb.event-store';
import { SqliteEventStore } from './event-store/sqlite/sqlite.event-store';
import { READ_MODEL_DATABASE, ReadModelDatabase } from './read-model/read-model.database';

export function openEventStore(config: AppConfig): EventStore {
  const options = { maxAppendSize: config.maxAppendSize };
  if (config.eventStore.kind === 'eventstoredb') return EventStoreDbEventStore.fromConnectionString(config.eventStore.connectionString, options);
  return new SqliteEventStore(config.dataDir === ':memory:' ? ':memory:' : join(config.dataDir, 'towline.db'), options);
}

/** The data directory's lock (config/data-directory.ts), released at shutdown once the stores are closed. */
const DATA_DIR_LOCK = Symbol('DATA_DIR_LOCK');

/** What every capability stands on: config, the event store, read models, the secret box, the CQRS wiring. */
@Global()
@Module({})
export class CoreModule implements OnApplicationShutdown {
  static forRoot(config: AppConfig, secretBox: SecretBox, dataDirLock: { release(): void } = { release: () => undefined }): DynamicModule {
    return {
      module: CoreModule,
      imports: [CqrsModule.forRoot(), DiscoveryModule],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: SECRET_BOX, useValue: secretBox },
        { provide: DATA_DIR_LOCK, useValue: dataDirLock },
        { provide: EVENT_STORE, useFactory: () => openEventStore(config) },
        { provide: READ_MODEL_DATABASE, useFactory: () => new ReadModelDatabase(config.dataDir) },
        ConfigFile,
        AggregateStore,
        ReadSideRunner,
        ReadYourWrites,
      ],
      exports: [APP_CONFIG, ConfigFile, SECRET_BOX, EVENT_STORE, READ_MODEL_DATABASE, AggregateStore, ReadSideRunner, ReadYourWrites, CqrsModule],
    };
  }

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_DATABASE) private readonly readModels: ReadModelDatabase,
    private readonly readSide: ReadSideRunner,
    @Inject(DATA_DIR_LOCK) private readonly dataDirLock: { release(): void },
  ) {}

  /**
   * Nest runs this after the HTTP server has closed (in-flight requests done). Order matters: consumers
   * finish their current event, then the group commit is flushed and the store closed.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.readSide.stop();
    await this.store.close();
    this.readModels.close();
    // Last: only once everything is on disk may another process take the directory.
    this.dataDirLock.release();
  }
}
