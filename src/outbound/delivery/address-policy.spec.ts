import { describe, expect, it } from 'vitest';
import { AddressPolicy } from './address-policy';

describe('AddressPolicy (the SSRF guard)', () => {
  const policy = new AddressPolicy();

  it.each([
    '127.0.0.1', '127.255.255.254', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1',
    '0.0.0.0', '224.0.0.1', '239.255.255.250', '255.255.255.255', '240.0.0.1', '192.0.2.1', '198.51.100.7', '203.0.113.9',
    '198.18.0.1', '192.0.0.8',
    '::', '::1', 'fe80::1', 'fd00::1', 'fc00::1', 'ff02::1', 'fec0::1', '100::1', '::ffff:127.0.0.1', '::ffff:7f00:1',
    '::ffff:169.254.169.254', '::ffff:10.0.0.1', '64:ff9b::a00:1', '64:ff9b::7f00:1', '64:ff9b:1::1', '::127.0.0.1',
    '2001:db8::1', '2002:7f00:1::1', '2002:c0a8:101::1', '2001::1', '2001:2::1', '3fff::1', '5f00::1',
  ])('refuses %s', (ip) => {
    expect(policy.check(ip)).toMatchObject({ allowed: false });
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.215.14', '2606:4700:4700::1111', '2a00:1450:4001:81b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    'allows the public address %s',
    (ip) => {
      expect(policy.check(ip)).toEqual({ allowed: true });
    },
  );

  it('says why an address is refused', () => {
    expect(policy.check('169.254.169.254')).toEqual({ allowed: false, reason: expect.stringMatching(/link-local/) });
    expect(policy.check('not-an-ip')).toMatchObject({ allowed: false });
  });

  it('lets allowlisted ranges through, IPv4-mapped spellings included, and nothing else', () => {
    const allow = new AddressPolicy(['127.0.0.0/8', 'fd12::/16']);
    expect(allow.check('127.0.0.1')).toEqual({ allowed: true });
    expect(allow.check('::ffff:127.0.0.1')).toEqual({ allowed: true });
    expect(allow.check('fd12::5')).toEqual({ allowed: true });
    expect(allow.check('::1')).toMatchObject({ allowed: false });
    expect(allow.check('10.0.0.1')).toMatchObject({ allowed: false });
  });

  it('sees the address WHATWG URL parsing makes of every IPv4 spelling', () => {
    for (const host of ['2130706433', '0x7f000001', '0177.0.0.1', '127.1', '0x7f.1', '017700000001', '127.0.0.1.']) {
      const hostname = new URL(`https://${host}/`).hostname;
      expect(hostname, host).toBe('127.0.0.1');
      expect(policy.check(hostname).allowed, host).toBe(false);
    }
    expect(new URL('https://[::ffff:127.0.0.1]/').hostname).toBe('[::ffff:7f00:1]');
    expect(policy.check(new URL('https://[::ffff:127.0.0.1]/').hostname).allowed).toBe(false);
  });
});
