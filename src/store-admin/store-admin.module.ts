import { Module } from '@nestjs/common';
import { StoreAdminController } from './store-admin.controller';
import { StoreBackup } from './store-backup';
import { StoreCopy } from './store-copy';

/** Operations on the event store as a whole: online backup, and the copy to EventStoreDB (docs/store.md). */
@Module({
  controllers: [StoreAdminController],
  providers: [StoreBackup, StoreCopy],
})
export class StoreAdminModule {}
