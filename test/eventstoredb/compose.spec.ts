import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/config';

/**
 * What the protocol fake cannot show (authentication, TLS, a cluster): the compose file is checked as written.
 * The node it starts is insecure, so it must not be reachable beyond this machine, nor offer more than
 * Towline uses.
 */
const text = readFileSync(join(__dirname, '../../docker-compose.yml'), 'utf8');
const compose = parse(text) as {
  services: Record<string, { environment?: Record<string, string>; ports?: (string | { host_ip?: string; published?: string })[]; network_mode?: string }>;
};
const node = compose.services.eventstore;
const env = node.environment ?? {};

describe('docker-compose.yml: the EventStoreDB node', () => {
  it('is reachable only on the compose network and on 127.0.0.1', () => {
    expect(node.network_mode).toBeUndefined();
    for (const port of node.ports ?? []) {
      if (typeof port === 'string') expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
      else expect(port.host_ip).toBe('127.0.0.1');
    }
  });

  it('has AtomPub off and runs no projections', () => {
    expect(env.EVENTSTORE_ENABLE_ATOM_PUB_OVER_HTTP).toBe('false');
    expect(env.EVENTSTORE_RUN_PROJECTIONS).toBe('None');
    expect(env.EVENTSTORE_START_STANDARD_PROJECTIONS ?? 'false').toBe('false');
  });

  it('marks its insecure mode as development-only, right where it is set and in the header', () => {
    expect(env.EVENTSTORE_INSECURE).toBe('true');
    const lines = text.split('\n');
    const at = lines.findIndex((line) => line.trim().startsWith('EVENTSTORE_INSECURE:'));
    expect(lines[at - 1]).toMatch(/#.*DEVELOPMENT ONLY/);
    expect(lines[0]).toMatch(/^#.*DEVELOPMENT ONLY/);
  });

  it("gives Towline a leader-only connection string that passes Towline's own validation", () => {
    const towline = compose.services.towline.environment!;
    const config = loadConfig({
      TW_EVENT_STORE: towline.TW_EVENT_STORE,
      EVENTSTORE_CONNECTION_STRING: towline.EVENTSTORE_CONNECTION_STRING,
      TW_MASTER_KEY: 'ab'.repeat(32),
    });
    expect(config.eventStore).toEqual({ kind: 'eventstoredb', connectionString: 'esdb://eventstore:2113?tls=false&nodePreference=leader' });
  });
});
