import ipaddr from 'ipaddr.js';
import type { Indicators } from '../../contracts/alert';
import type { IndicatorLists } from '../playbook-settings';

export type IndicatorKind = 'email' | 'url' | 'domain' | 'ip' | 'hash';

export interface ListHit {
  kind: IndicatorKind;
  value: string;
  /** The list entry it matched. */
  entry: string;
}

export interface Reputation {
  blocked: ListHit[];
  allowed: ListHit[];
  /** How many indicators were looked up. */
  checked: number;
}

const domainMatches = (domain: string, entry: string) => domain === entry || domain.endsWith(`.${entry}`);

function ipMatches(ip: string, entry: string): boolean {
  try {
    const address = ipaddr.process(ip);
    if (!entry.includes('/')) return address.toString() === ipaddr.process(entry).toString();
    const [range, bits] = ipaddr.parseCIDR(entry);
    return address.kind() === range.kind() && address.match(range, bits);
  } catch {
    return false;
  }
}

const MATCHERS: Record<IndicatorKind, { list: keyof IndicatorLists; matches: (value: string, entry: string) => boolean }> = {
  email: { list: 'emails', matches: (value, entry) => value === entry },
  // A URL entry is a prefix: `https://evil.example/login` blocks every path below it.
  url: { list: 'urls', matches: (value, entry) => value.startsWith(entry) },
  domain: { list: 'domains', matches: domainMatches },
  ip: { list: 'ips', matches: ipMatches },
  hash: { list: 'hashes', matches: (value, entry) => value === entry },
};

function hits(kind: IndicatorKind, values: readonly string[], lists: IndicatorLists): ListHit[] {
  const { list, matches } = MATCHERS[kind];
  return values.flatMap((raw) => {
    const value = raw.trim().toLowerCase();
    const entry = lists[list].find((candidate) => matches(value, candidate));
    return entry === undefined ? [] : [{ kind, value, entry }];
  });
}

/** Looks every indicator up in the configured block and allow lists (pure). */
export function checkReputation(indicators: Indicators, allow: IndicatorLists, block: IndicatorLists): Reputation {
  const kinds: [IndicatorKind, readonly string[]][] = [
    ['email', indicators.emails],
    ['url', indicators.urls],
    ['domain', indicators.domains],
    ['ip', indicators.ips],
    ['hash', indicators.hashes],
  ];
  return {
    blocked: kinds.flatMap(([kind, values]) => hits(kind, values, block)),
    allowed: kinds.flatMap(([kind, values]) => hits(kind, values, allow)),
    checked: kinds.reduce((n, [, values]) => n + values.length, 0),
  };
}
