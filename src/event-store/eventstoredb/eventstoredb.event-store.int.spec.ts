import { describe, it } from 'vitest';
import { describeEventStoreConformance } from '../event-store.conformance';
import { EventStoreDbEventStore } from './eventstoredb.event-store';

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

if (connectionString) {
  describeEventStoreConformance('EventStoreDB', async () => EventStoreDbEventStore.fromConnectionString(connectionString));
} else {
  // No server can run on the build machines: say so loudly instead of passing silently.
  console.warn('SKIPPED: EventStoreDB conformance suite (set EVENTSTORE_CONNECTION_STRING to run it against a server)');
  describe('event store conformance: EventStoreDB', () => {
    it.skip('SKIPPED: EVENTSTORE_CONNECTION_STRING is not set, so no EventStoreDB server to run against', () => {});
  });
}
