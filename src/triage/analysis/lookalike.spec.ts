import { domainToASCII } from 'node:url';
import { describe, expect, it } from 'vitest';
import { damerauLevenshtein, findLookalike, registrableDomain, skeleton } from './lookalike';

const PROTECTED = ['paypal.com', 'example.co.uk', 'ibm.com'];

describe('Damerau-Levenshtein distance', () => {
  it.each([
    ['paypal', 'paypal', 0],
    ['paypal', 'paypa1', 1],
    ['paypal', 'paypl', 1],
    ['paypal', 'paypall', 1],
    ['paypal', 'papyal', 1], // one transposition, not two substitutions
    ['ca', 'abc', 2], // unrestricted: the transposed pair may be edited again (optimal string alignment says 3)
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
  ])('%s → %s is %i', (a, b, distance) => {
    expect(damerauLevenshtein(a, b)).toBe(distance);
    expect(damerauLevenshtein(b, a)).toBe(distance);
  });
});

describe('look-alike domains of protected domains', () => {
  it('finds digit and letter-pair substitutions as homoglyphs', () => {
    expect(findLookalike('paypa1.com', PROTECTED)).toMatchObject({ protected: 'paypal.com', technique: 'homoglyph', idn: false, distance: 1 });
    expect(findLookalike('rnicrosoft.com', ['microsoft.com'])).toMatchObject({ technique: 'homoglyph' });
    expect(findLookalike('PAYPA1.COM.', PROTECTED)).toMatchObject({ protected: 'paypal.com' });
  });

  it('decodes IDN (xn--) and folds Cyrillic and Greek letters that look Latin', () => {
    const cyrillicA = domainToASCII('pаypal.com'); // the second letter is U+0430
    expect(cyrillicA).toMatch(/^xn--/);
    expect(findLookalike(cyrillicA, PROTECTED)).toMatchObject({ technique: 'homoglyph', idn: true, unicode: 'pаypal.com', protected: 'paypal.com' });
    expect(findLookalike(domainToASCII('pαypal.com'), PROTECTED)).toMatchObject({ technique: 'homoglyph', idn: true });
    expect(findLookalike(domainToASCII('раураl.com'), PROTECTED)).toMatchObject({ technique: 'homoglyph' }); // all Cyrillic but the l
    expect(findLookalike(domainToASCII('paypál.com'), PROTECTED)).toMatchObject({ technique: 'homoglyph', idn: true });
  });

  it('finds typos within the allowed edit distance, including another top-level domain', () => {
    expect(findLookalike('paypl.com', PROTECTED)).toMatchObject({ technique: 'edit_distance', distance: 1 });
    expect(findLookalike('papyal.com', PROTECTED)).toMatchObject({ technique: 'edit_distance', distance: 1 });
    expect(findLookalike('paypal.co', PROTECTED)).toMatchObject({ technique: 'edit_distance' });
    expect(findLookalike('pyapl.com', PROTECTED)).toMatchObject({ technique: 'edit_distance', distance: 2 });
    expect(findLookalike('pyapl.com', PROTECTED, 1)).toBeNull();
    expect(findLookalike('exampel.co.uk', PROTECTED)).toMatchObject({ protected: 'example.co.uk' });
  });

  it('allows only one edit for short names, or every short domain would be a look-alike', () => {
    expect(findLookalike('ibn.com', PROTECTED)).toMatchObject({ protected: 'ibm.com', distance: 1 });
    expect(findLookalike('abc.com', PROTECTED)).toBeNull();
  });

  it('finds the same name, or a homoglyph of it, under another public or private suffix (Public Suffix List)', () => {
    expect(findLookalike('paypal.co.kr', PROTECTED)).toMatchObject({ protected: 'paypal.com', technique: 'other_suffix' });
    expect(findLookalike('login.paypal.co.kr', PROTECTED)).toMatchObject({ technique: 'other_suffix' });
    expect(findLookalike('paypa1.co.kr', PROTECTED)).toMatchObject({ protected: 'paypal.com', technique: 'homoglyph' });
    expect(findLookalike('paypal.github.io', PROTECTED)).toMatchObject({ protected: 'paypal.com', technique: 'other_suffix' });
    expect(findLookalike('example.com.au', PROTECTED)).toMatchObject({ protected: 'example.co.uk', technique: 'other_suffix' });
    // A typo under another suffix is no match: it would make every common word's cousin a look-alike.
    expect(findLookalike('apply.io', ['apple.com'])).toBeNull();
    // Another site on the same private suffix is not the protected one's subdomain.
    expect(findLookalike('evil.github.io', ['paypal.github.io'])).toBeNull();
  });

  it('folds every script the Unicode confusables data covers, not only Cyrillic and Greek', () => {
    expect(findLookalike(domainToASCII('gօօgle.com'), ['google.com'])).toMatchObject({ technique: 'homoglyph', idn: true }); // Armenian oh
    expect(findLookalike(domainToASCII('ꮯitibank.com'), ['citibank.com'])).toMatchObject({ technique: 'homoglyph', idn: true }); // Cherokee
    expect(findLookalike(domainToASCII('аррӏе.com'), ['apple.com'])).toMatchObject({ technique: 'homoglyph', idn: true }); // Cyrillic palochka
    expect(findLookalike('0ffice.com', ['office.com'])).toMatchObject({ technique: 'homoglyph' });
  });

  it('finds a protected domain spelled out inside another one', () => {
    expect(findLookalike('paypal.com.secure-login.net', PROTECTED)).toMatchObject({ technique: 'embedded', protected: 'paypal.com' });
  });

  it('never flags the protected domain itself, its subdomains, or unrelated domains', () => {
    for (const domain of ['paypal.com', 'www.paypal.com', 'login.eu.paypal.com', 'malicious.com', 'github.com', 'localhost', 'company.com']) {
      expect(findLookalike(domain, PROTECTED), domain).toBeNull();
    }
    expect(findLookalike('paypa1.com', [])).toBeNull();
  });

  it('reads registrable domains and skeletons', () => {
    expect(registrableDomain('a.b.paypal.com')).toBe('paypal.com');
    expect(registrableDomain('shop.example.co.uk')).toBe('example.co.uk');
    expect(registrableDomain('a.paypal.co.kr')).toBe('paypal.co.kr');
    expect(registrableDomain('paypal.github.io')).toBe('paypal.github.io');
    expect(registrableDomain('localhost')).toBe('localhost');
    expect(skeleton('раураl.com')).toBe('paypal.com');
    expect(skeleton('vvell.corn')).toBe('well.com');
  });
});
