import { describe, expect, it } from 'vitest';
import { extractIndicators, indicatorCollector } from './indicators';

describe('indicator extraction', () => {
  it('lowercases emails, unwraps display names and mailto:, and adds their domains', () => {
    const c = indicatorCollector();
    c.email('Phisher <Phisher@Malicious.COM>');
    c.email('mailto:ceo@company.com');
    c.email('not an address');
    expect(c.result()).toMatchObject({ emails: ['phisher@malicious.com', 'ceo@company.com'], domains: ['malicious.com', 'company.com'] });
  });

  it('keeps URLs in WHATWG form and adds their host as a domain, or as an IP when it is one', () => {
    const c = indicatorCollector();
    c.url('http://Evil.Example.com/Login?next=/Inbox');
    c.url('https://[2001:DB8::1]:8443/x');
    c.url('http://203.0.113.7/payload.bin');
    c.url('javascript:alert(1)');
    c.url('not a url');
    expect(c.result()).toEqual({
      emails: [],
      urls: ['http://evil.example.com/Login?next=/Inbox', 'https://[2001:db8::1]:8443/x', 'http://203.0.113.7/payload.bin'],
      domains: ['evil.example.com'],
      ips: ['2001:db8::1', '203.0.113.7'],
      hashes: [],
    });
  });

  it('finds URLs, emails, IPs and hashes in free text without the punctuation around them', () => {
    const found = extractIndicators(
      'Login from 198.51.100.23:51234 by Bob@Example.org (see https://evil.example.net/login.), ' +
        'dropped file 44D88612FEA8A8F36DE82E1278ABB02F; v6 peer 2001:0db8:0000:0000:0000:0000:0000:0042, mapped ::ffff:192.0.2.1.',
    );
    expect(found).toEqual({
      emails: ['bob@example.org'],
      urls: ['https://evil.example.net/login'],
      domains: ['evil.example.net', 'example.org'],
      // The IPv4 inside a mapped address is reported too: it is the real peer.
      ips: ['198.51.100.23', '192.0.2.1', '2001:db8::42', '::ffff:c000:201'],
      hashes: ['44d88612fea8a8f36de82e1278abb02f'],
    });
  });

  it('rejects what only looks like an IP or a hash', () => {
    const found = extractIndicators(
      'version 1.2.3.4.5, octets 999.1.1.1, time 10:00:00, mac 00:1a:2b:3c:4d:5e, scoped fe80::1%eth0, ' +
        'number 12345678901234567890123456789012, 33 hex 44d88612fea8a8f36de82e1278abb02fa, unspecified ::',
    );
    expect(found.ips).toEqual([]);
    expect(found.hashes).toEqual([]);
  });

  it('accepts hashes of MD5, SHA-1 and SHA-256 length only, lowercased, and not all-zero placeholders', () => {
    const c = indicatorCollector();
    c.hash('3395856CE81F2B7382DEE72602F798B642F14140');
    c.hash('275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F');
    c.hash('abc');
    c.hash('0000000000000000000000000000000000000000');
    expect(c.result().hashes).toEqual([
      '3395856ce81f2b7382dee72602f798b642f14140',
      '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f',
    ]);
  });

  it('deduplicates across fields and spellings, keeping first-seen order', () => {
    const found = extractIndicators({ a: 'X@Example.com and 10.0.0.1', b: ['x@example.com', '10.0.0.1'], c: { d: 'http://example.com' } });
    expect(found).toEqual({ emails: ['x@example.com'], urls: ['http://example.com/'], domains: ['example.com'], ips: ['10.0.0.1'], hashes: [] });
  });

  it('never reads credentials, and takes values of domain-named keys as domains', () => {
    const found = extractIndicators({
      routing_key: 'e93facc04764012d7bfb002500d5d1a6',
      token: '5f1e8acedc065031aad553b710838eb366cfee9a',
      sender_domain: 'Malicious.Example',
      DomainName: 'c2.example.net.',
      file: 'invoice.pdf.exe',
    });
    expect(found).toEqual({ emails: [], urls: [], domains: ['malicious.example', 'c2.example.net'], ips: [], hashes: [] });
  });

  it('stays linear on a megabyte of text without separators', () => {
    const started = performance.now();
    for (const unit of ['a', 'a@', 'x@y.', '1.', '1:', 'http://']) extractIndicators(unit.repeat(1_000_000 / unit.length));
    // A quadratic pattern would take minutes here; linear scanning takes well under a second.
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
