// The client's own parser: what it will build from the string Towline hands it.
import { parseConnectionString } from '@eventstore/db-client/dist/Client/parseConnectionString';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config/config';
import { ConnectionStringError, normalizeConnectionString } from './esdb-client';

const MASTER_KEY = 'ab'.repeat(32);
const config = (connectionString: string) =>
  loadConfig({ TW_EVENT_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: connectionString, TW_MASTER_KEY: MASTER_KEY });

describe('EventStoreDB connection strings', () => {
  it('rewrites kurrentdb:// and kurrentdb+discover:// to the esdb schemes of the same protocol', () => {
    expect(normalizeConnectionString('kurrentdb://admin:changeit@node1:2113,node2:2113?tls=true')).toBe(
      'esdb://admin:changeit@node1:2113,node2:2113?tls=true&nodePreference=leader',
    );
    expect(normalizeConnectionString('kurrentdb+discover://cluster.example:2113')).toBe(
      'esdb+discover://cluster.example:2113?nodePreference=leader',
    );
    expect(normalizeConnectionString('kdb://localhost:2113?tls=false')).toBe('esdb://localhost:2113?tls=false&nodePreference=leader');
    // ...which the client then parses (it knows only esdb://).
    expect(parseConnectionString(normalizeConnectionString('kurrentdb://localhost:2113?tls=false'))).toMatchObject({
      dnsDiscover: false,
      hosts: [{ address: 'localhost', port: 2113 }],
      tls: false,
    });
  });

  it('builds a leader-only client: nodePreference=leader is set when absent, and kept', () => {
    for (const given of ['esdb://localhost:2113?tls=false', 'esdb://localhost:2113?tls=false&nodePreference=Leader', 'esdb+discover://c:2113']) {
      expect(parseConnectionString(normalizeConnectionString(given)).nodePreference).toBe('leader');
    }
  });

  it('refuses a nodePreference other than leader, however it is spelt', () => {
    for (const preference of ['nodePreference=follower', 'NodePreference=readOnlyReplica', 'node_preference=random', 'nodepreference=Follower']) {
      expect(() => normalizeConnectionString(`esdb://localhost:2113?tls=false&${preference}`)).toThrow(ConnectionStringError);
      expect(() => config(`esdb://localhost:2113?tls=false&${preference}`)).toThrow(/EVENTSTORE_CONNECTION_STRING: nodePreference=.* is not supported/);
    }
  });

  it('refuses other schemes and strings without a host at validation, not at boot', () => {
    expect(() => config('http://localhost:2113')).toThrow(ConfigError);
    expect(() => config('esdb://?tls=false')).toThrow(/names no host/);
    expect(() => normalizeConnectionString('tcp://localhost:1113')).toThrow(ConnectionStringError);
  });

  it('hands the rewritten, leader-only string to the app', () => {
    expect(config('kurrentdb://localhost:2113?tls=false').eventStore).toEqual({
      kind: 'eventstoredb',
      connectionString: 'esdb://localhost:2113?tls=false&nodePreference=leader',
    });
  });
});

describe('TW_MAX_APPEND_SIZE', () => {
  it("defaults to EventStoreDB's MaxAppendSize and is bounded", () => {
    expect(loadConfig({}).maxAppendSize).toBe(1024 * 1024);
    expect(loadConfig({ TW_MAX_APPEND_SIZE: '524288' }).maxAppendSize).toBe(524_288);
    expect(() => loadConfig({ TW_MAX_APPEND_SIZE: '100' })).toThrow(/TW_MAX_APPEND_SIZE/);
    expect(() => loadConfig({ TW_MAX_APPEND_SIZE: 'big' })).toThrow(/TW_MAX_APPEND_SIZE/);
  });
});
