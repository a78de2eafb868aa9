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
    // Leader-only, whatever the client's default (see normalizeConnectionString).
    expect(config.eventStore).toEqual({ kind: 'eventstoredb', connectionString: 'esdb://localhost:2113?tls=false&nodePreference=leader' });
    expect(config.masterKey).toHaveLength(32);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ TW_PORT: '', TW_ADMIN_KEY: '' }).port).toBe(8080);
  });

  it('says one thing about a bad variable, not every rule it also breaks', () => {
    let message = '';
    try {
      loadConfig({ TW_PORT: 'abc' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('Invalid configuration:\n  TW_PORT="abc": TW_PORT must be an integer number');
  });

  it('lists TW_* variables it does not know, but not the CLI\'s own', () => {
    expect(loadConfig({ TW_PROT: '80', TW_URL: 'http://x', TW_API_KEY: 'tw_x', TW_PORT: '1', OTHER: '1' }).unknownVariables).toEqual(['TW_PROT']);
  });

  it('applies the hardening defaults and reads their variables', () => {
    expect(loadConfig({})).toMatchObject({
      rateLimit: { webhook: 600, api: 1200, windowMs: 60_000 },
      webhookMaxAlerts: 500,
      timeouts: { headersMs: 10_000, requestMs: 30_000 },
      metricsToken: undefined,
    });
    expect(
      loadConfig({ TW_WEBHOOK_RATE_LIMIT: '0', TW_API_RATE_LIMIT: '5', TW_RATE_LIMIT_WINDOW: '10s', TW_METRICS_TOKEN: 'a-long-enough-token' }),
    ).toMatchObject({ rateLimit: { webhook: 0, api: 5, windowMs: 10_000 }, metricsToken: 'a-long-enough-token' });
    expect(() => loadConfig({ TW_METRICS_TOKEN: 'short' })).toThrow(/TW_METRICS_TOKEN must be at least 16/);
    expect(() => loadConfig({ TW_REQUEST_TIMEOUT: 'soon' })).toThrow(/TW_REQUEST_TIMEOUT/);
  });
});
