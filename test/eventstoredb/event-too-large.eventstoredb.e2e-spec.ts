import { describeEventTooLarge } from './event-too-large';
import { connectionString, describeSkipped } from './support';

if (connectionString) {
  describeEventTooLarge('EventStoreDB', { TW_EVENT_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: connectionString, TW_MASTER_KEY: 'b'.repeat(64) });
} else {
  describeSkipped('an alert too large for the store (EventStoreDB)');
}
