import { isIP } from 'node:net';
import type { Indicators } from './types';
import { isRecord, isSecretKey } from './values';

/**
 * One place for indicator extraction, so every vendor validates and normalises the same way:
 * emails and domains lowercased, IPs validated by node:net (IPv6 in canonical compressed form),
 * hashes as lowercase hex of MD5/SHA-1/SHA-256 length, URLs parsed by WHATWG URL. Each list keeps
 * first-seen order and holds no duplicates.
 */
export interface IndicatorCollector {
  email(value: unknown): void;
  url(value: unknown): void;
  domain(value: unknown): void;
  ip(value: unknown): void;
  hash(value: unknown): void;
  /** Free text (a log line, a command line, a description): everything recognisable in it. */
  text(value: unknown): void;
  /**
   * Every string inside a JSON value. Secret-looking keys are skipped; keys named like a domain/FQDN are
   * taken as domains, because a bare domain in free text cannot be told apart from a file name.
   */
  walk(value: unknown, skipKey?: (key: string) => boolean): void;
  result(): Indicators;
}

// Quantifiers are bounded (RFC 5321 lengths) so a long run of letters cannot make matching quadratic.
const EMAIL_BODY = '[a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}(?:\\.[a-z0-9-]{1,63}){0,8}\\.[a-z]{2,63}';
const EMAIL_IN_TEXT = new RegExp(`(?<![a-z0-9._%+-])${EMAIL_BODY}`, 'gi');
const EMAIL = new RegExp(`^${EMAIL_BODY}$`, 'i');
const URL_IN_TEXT = /\b(?:https?|ftp):\/\/[^\s<>"'`{}|\\^]+/gi;
const IPV4_IN_TEXT = /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)/g;
/** IPv6 candidates are tokens made only of hex digits, colons and dots (for ::ffff:1.2.3.4); isIP decides. */
const IPV6_CANDIDATE = /(?<![\w:.])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?::\d{1,3}(?:\.\d{1,3}){3})?(?![\w:%]|\.\d)/gi;
const HASH_IN_TEXT = /(?<![0-9a-z_])(?:[0-9a-f]{64}|[0-9a-f]{40}|[0-9a-f]{32})(?![0-9a-z_])/gi;
const HASH = /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/;
const HOSTNAME = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/;
const DOMAIN_KEY = /(domain|fqdn)(name)?s?$/i;
/** Punctuation that ends a sentence or wraps a link in prose, not part of the URL. */
const URL_TRAILER = /[.,;:!?)\]'"]+$/;

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

export function canonicalIp(value: string): string | undefined {
  const candidate = value.trim().replace(/^\[(.*)\]$/, '$1');
  const version = isIP(candidate);
  if (version === 4) return candidate;
  // Scoped (fe80::1%eth0) and unspecified (::) addresses identify nothing outside one machine.
  if (version === 6 && !candidate.includes('%') && candidate !== '::') {
    return new URL(`http://[${candidate}]/`).hostname.slice(1, -1);
  }
  return undefined;
}

export function indicatorCollector(): IndicatorCollector {
  const sets = {
    emails: new Set<string>(),
    urls: new Set<string>(),
    domains: new Set<string>(),
    ips: new Set<string>(),
    hashes: new Set<string>(),
  };

  const domain = (value: unknown): void => {
    for (const s of strings(value)) {
      const host = s.trim().toLowerCase().replace(/\.$/, '');
      const ip = canonicalIp(host);
      if (ip) sets.ips.add(ip);
      else if (HOSTNAME.test(host)) sets.domains.add(host);
    }
  };

  const email = (value: unknown): void => {
    for (const s of strings(value)) {
      // "Display Name <a@b.c>" and mailto: links are common enough to unwrap; anything else must be a bare address.
      const address = s.trim().replace(/^.*<([^<>]*)>$/, '$1').replace(/^mailto:/i, '').toLowerCase();
      if (!EMAIL.test(address)) continue;
      sets.emails.add(address);
      domain(address.slice(address.lastIndexOf('@') + 1));
    }
  };

  const url = (value: unknown): void => {
    for (const s of strings(value)) {
      let parsed: URL;
      try {
        parsed = new URL(s.trim());
      } catch {
        continue;
      }
      if (!['http:', 'https:', 'ftp:'].includes(parsed.protocol) || parsed.hostname === '') continue;
      sets.urls.add(parsed.href);
      domain(parsed.hostname);
    }
  };

  const ip = (value: unknown): void => {
    for (const s of strings(value)) {
      const found = canonicalIp(s);
      if (found) sets.ips.add(found);
    }
  };

  const hash = (value: unknown): void => {
    for (const s of strings(value)) {
      const lower = s.trim().toLowerCase();
      // Sensors send all-zero digests as "not computed" (CrowdStrike's SHA1String, for one).
      if (HASH.test(lower) && !/^0+$/.test(lower)) sets.hashes.add(lower);
    }
  };

  const text = (value: unknown): void => {
    for (const s of strings(value)) {
      for (const [m] of s.matchAll(URL_IN_TEXT)) url(m.replace(URL_TRAILER, ''));
      for (const [m] of s.matchAll(EMAIL_IN_TEXT)) email(m);
      for (const [m] of s.matchAll(IPV4_IN_TEXT)) ip(m);
      for (const [m] of s.matchAll(IPV6_CANDIDATE)) ip(m);
      // An all-digit run is a number (an event id, a timestamp), not a digest.
      for (const [m] of s.matchAll(HASH_IN_TEXT)) if (/[a-f]/i.test(m)) hash(m);
    }
  };

  const walk = (value: unknown, skipKey: (key: string) => boolean = () => false): void => {
    if (typeof value === 'string') text(value);
    else if (Array.isArray(value)) for (const item of value) walk(item, skipKey);
    else if (isRecord(value)) {
      for (const [key, child] of Object.entries(value)) {
        if (isSecretKey(key) || skipKey(key)) continue;
        if (DOMAIN_KEY.test(key)) domain(child);
        walk(child, skipKey);
      }
    }
  };

  return {
    email,
    url,
    domain,
    ip,
    hash,
    text,
    walk,
    result: () => ({
      emails: [...sets.emails],
      urls: [...sets.urls],
      domains: [...sets.domains],
      ips: [...sets.ips],
      hashes: [...sets.hashes],
    }),
  };
}

/** Indicators of free-standing text or JSON, for callers that need nothing vendor-specific. */
export function extractIndicators(value: unknown): Indicators {
  const collector = indicatorCollector();
  collector.walk(value);
  return collector.result();
}
