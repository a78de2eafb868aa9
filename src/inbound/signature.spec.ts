import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTimestamp, computeSignature, parseSignatureHeader, signatureHeader, verifySignature } from './signature';

interface InboundVector {
  secret: string;
  timestamp: string;
  body: string;
  signed_content: string;
  header: string;
  header_as_the_seed_snippet_sends_it: string;
}

// Computed independently of the project (Python and openssl), beside the design notes.
const vectors = (JSON.parse(readFileSync(join(__dirname, '../../../shared/vectors/vectors.json'), 'utf8')) as { inbound: InboundVector[] }).inbound;

describe('inbound signatures', () => {
  it.each(vectors)('reproduces the shared vector for secret $secret', (vector) => {
    const body = Buffer.from(vector.body, 'utf8');
    expect(signatureHeader(vector.secret, vector.timestamp, body)).toBe(vector.header);
    expect(Buffer.concat([Buffer.from(`${vector.timestamp}.`), body]).toString('utf8')).toBe(vector.signed_content);
  });

  it.each(vectors)('verifies the header both as specified and as the seed snippet sends it ($timestamp)', (vector) => {
    const body = Buffer.from(vector.body, 'utf8');
    for (const header of [vector.header, vector.header_as_the_seed_snippet_sends_it]) {
      const digest = parseSignatureHeader(header);
      expect(digest, header).not.toBeNull();
      expect(verifySignature([vector.secret], vector.timestamp, body, digest!)).toBe(true);
      expect(verifySignature(['another-secret'], vector.timestamp, body, digest!)).toBe(false);
    }
  });

  it('accepts the spellings openssl prints and nothing looser', () => {
    const hex = '8ad00c4e6f4b6c5b3d4dcece915fd33fd924a31c208133e2a75b6bb9af1617e3';
    for (const accepted of [
      `sha256=${hex}`,
      `sha256=${hex.toUpperCase()}`,
      `sha256=SHA2-256(stdin)= ${hex}`, // OpenSSL 3
      `sha256=(stdin)= ${hex}`, // OpenSSL 1.1
      `sha256=HMAC-SHA256(stdin)= ${hex}`,
      `sha256=${hex} *stdin`, // openssl dgst -r
    ]) {
      expect(parseSignatureHeader(accepted)?.toString('hex'), accepted).toBe(hex);
    }
    for (const refused of [
      undefined,
      '',
      hex,
      `sha1=${hex}`,
      `sha256=${hex.slice(1)}`,
      `sha256=${hex}0`,
      `sha256=${hex},sha256=${hex}`,
      `sha256=SHA2-256(file)= ${hex}`,
      `sha256=v1,${hex}`,
    ]) {
      expect(parseSignatureHeader(refused), String(refused)).toBeNull();
    }
  });

  it('accepts any of several secrets (rotation) and refuses when none matches', () => {
    const body = Buffer.from('{"a":1}');
    const digest = computeSignature('new-secret', '100', body);
    expect(verifySignature(['old-secret', 'new-secret'], '100', body, digest)).toBe(true);
    expect(verifySignature(['old-secret'], '100', body, digest)).toBe(false);
    expect(verifySignature([], '100', body, digest)).toBe(false);
  });

  it('fails verification when any byte of the body, the timestamp or the signature changes', () => {
    const secret = 'your-secret';
    const flip = (bytes: Buffer, index: number, delta: number) => {
      const copy = Buffer.from(bytes);
      copy[index % copy.length] = (copy[index % copy.length] + delta) % 256;
      return copy;
    };
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        fc.integer({ min: 1_000_000_000, max: 9_999_999_999 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.constantFrom('body', 'timestamp', 'signature'),
        (bodyBytes, seconds, index, delta, part) => {
          const body = Buffer.from(bodyBytes);
          const timestamp = String(seconds);
          const digest = computeSignature(secret, timestamp, body);
          expect(verifySignature([secret], timestamp, body, digest)).toBe(true);
          if (part === 'body') return !verifySignature([secret], timestamp, flip(body, index, delta), digest);
          if (part === 'signature') return !verifySignature([secret], timestamp, body, flip(digest, index, delta));
          // A timestamp stays digits: change one digit to another.
          const position = index % timestamp.length;
          const digit = String((Number(timestamp[position]) + (delta % 9) + 1) % 10);
          const changed = timestamp.slice(0, position) + digit + timestamp.slice(position + 1);
          return !verifySignature([secret], changed, body, digest);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('webhook timestamps', () => {
  const now = 1_705_320_000_000;

  it('accepts up to 300 seconds either way and no further', () => {
    expect(checkTimestamp('1705320000', now)).toBe('ok');
    expect(checkTimestamp(String(1705320000 - 300), now)).toBe('ok');
    expect(checkTimestamp(String(1705320000 + 300), now)).toBe('ok');
    expect(checkTimestamp(String(1705320000 - 301), now)).toBe('too_old');
    expect(checkTimestamp(String(1705320000 + 301), now)).toBe('too_new');
  });

  it('refuses anything but whole Unix seconds', () => {
    for (const bad of [undefined, '', 'abc', '1705320000.5', '-1705320000', '+1705320000', '1e9', ' 1705320000', '0x65a50d00']) {
      expect(checkTimestamp(bad, now), String(bad)).toBe('missing');
    }
    // Milliseconds are a number, but thousands of years ahead.
    expect(checkTimestamp('1705320000000', now)).toBe('too_new');
  });
});
