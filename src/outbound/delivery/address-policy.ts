import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Address, number];

const cidr = (text: string): Range => ipaddr.parseCIDR(text);

/**
 * IPv4 ranges a webhook may never reach (unless allowlisted): everything that is not ordinary public
 * unicast. Spelled out rather than taken from ipaddr.js's range names, so that the policy is readable here
 * and does not move when the library adds a name.
 */
const BLOCKED_V4: [Range, string][] = [
  [cidr('0.0.0.0/8'), 'this network (0.0.0.0 reaches the local host)'],
  [cidr('10.0.0.0/8'), 'private'],
  [cidr('100.64.0.0/10'), 'carrier-grade NAT'],
  [cidr('127.0.0.0/8'), 'loopback'],
  [cidr('169.254.0.0/16'), 'link-local (cloud metadata services live here)'],
  [cidr('172.16.0.0/12'), 'private'],
  [cidr('192.0.0.0/24'), 'IETF protocol assignments'],
  [cidr('192.0.2.0/24'), 'documentation'],
  [cidr('192.88.99.0/24'), 'deprecated 6to4 relay'],
  [cidr('192.168.0.0/16'), 'private'],
  [cidr('198.18.0.0/15'), 'benchmarking'],
  [cidr('198.51.100.0/24'), 'documentation'],
  [cidr('203.0.113.0/24'), 'documentation'],
  [cidr('224.0.0.0/4'), 'multicast'],
  [cidr('240.0.0.0/4'), 'reserved (and broadcast)'],
];

/** Only global unicast (2000::/3) is reachable, minus these ranges inside it. */
const GLOBAL_UNICAST_V6 = cidr('2000::/3');
const BLOCKED_V6: [Range, string][] = [
  [cidr('2001::/23'), 'IETF protocol assignments (Teredo, benchmarking, ORCHID, …)'],
  [cidr('2001:db8::/32'), 'documentation'],
  [cidr('2002::/16'), '6to4 (may embed any IPv4 address)'],
  [cidr('3fff::/20'), 'documentation'],
];
/** Prefixes whose last 32 bits are an IPv4 address that is actually reached: judged by that address. */
const IPV4_MAPPED = cidr('::ffff:0:0/96');
const NAT64_WELL_KNOWN = cidr('64:ff9b::/96');

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

/**
 * The SSRF guard's decision for one IP address: refused when it is not public unicast, unless it falls in
 * an allowlisted range (TW_WEBHOOK_ALLOW_CIDRS). IPv4-mapped IPv6 (::ffff:a.b.c.d) and the NAT64 well-known
 * prefix (64:ff9b::a.b.c.d) are judged by the IPv4 address they lead to; 6to4 and Teredo are refused
 * whole, since they can carry any IPv4 address, private ones included.
 */
export class AddressPolicy {
  private readonly allowed: Range[];

  constructor(allowCidrs: readonly string[] = []) {
    this.allowed = allowCidrs.map(cidr);
  }

  check(ip: string): AddressVerdict {
    let address: Address;
    try {
      address = ipaddr.parse(ip.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
    } catch {
      return { allowed: false, reason: `'${ip}' is not an IP address` };
    }
    const reached = reachedAddress(address);
    if (this.isAllowlisted(address) || this.isAllowlisted(reached)) return { allowed: true };
    const reason = blockedReason(reached);
    return reason ? { allowed: false, reason: `${ip} is ${reason}` } : { allowed: true };
  }

  private isAllowlisted(address: Address): boolean {
    return this.allowed.some((range) => range[0].kind() === address.kind() && address.match(range));
  }
}

function reachedAddress(address: Address): Address {
  if (address.kind() !== 'ipv6') return address;
  const v6 = address as ipaddr.IPv6;
  if (v6.match(IPV4_MAPPED) || v6.match(NAT64_WELL_KNOWN)) {
    const bytes = v6.toByteArray().slice(12);
    return new ipaddr.IPv4(bytes);
  }
  return v6;
}

function blockedReason(address: Address): string | null {
  if (address.kind() === 'ipv4') return BLOCKED_V4.find(([range]) => address.match(range))?.[1] ?? null;
  if (!address.match(GLOBAL_UNICAST_V6)) return 'not global unicast IPv6 (loopback, link-local, unique-local, multicast, …)';
  return BLOCKED_V6.find(([range]) => address.match(range))?.[1] ?? null;
}
