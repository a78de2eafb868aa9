import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8080, host: '0.0.0.0', eventStore: { kind: 'sqlite' }, bodyLimit: 1048576 });
    expect(config.dataDir).toMatch(/\/data$/);
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ TW_PORT: 'eighty' })).toThrow(/TW_PORT="eighty"/);
    expect(() => loadConfig({ TW_PORT: '70000' })).toThrow(/TW_PORT/);
    expect(() => loadConfig({ TW_EVENT_STORE: 'postgres' })).toThrow(/TW_EVENT_STORE/);
    expect(() => loadConfig({ TW_LOG_LEVEL: 'loud' })).toThrow(ConfigError);
    expect(() => loadConfig({ TW_ADMIN_KEY: 'short' })).toThrow(/TW_ADMIN_KEY/);
  });

  it('requires a connection string and a shared master key for EventStoreDB', () => {
    expect(() => loadConfig({ TW_EVENT_STORE: 'eventstoredb' })).toThrow(/EVENTSTORE_CONNECTION_STRING/);
    expect(() =>
      loadConfig({ TW_EVENT_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false' }),
    ).toThrow(/TW_MASTER_KEY/);
    const config = loadConfig({
      TW_EVENT_STORE: 'eventstoredb',
      EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false',
      TW_MASTER_KEY: 'ab'.repeat(32),
    });
    expect(config.eventStore).toEqual({ kind: 'eventstoredb', connectionString: 'esdb://localhost:2113?tls=false' });
    expect(config.masterKey).toHaveLength(32);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ TW_PORT: '', TW_ADMIN_KEY: '' }).port).toBe(8080);
  });
});
