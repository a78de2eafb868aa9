import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWellFormed, loneSurrogatePath, truncateText } from './text';

const EMOJI = ['😀', '👍🏽', '🇫🇷', '👨‍👩‍👧‍👦', 'é', 'a'];

describe('truncateText', () => {
  it('keeps text that fits as it is', () => {
    expect(truncateText('short', 10)).toBe('short');
    expect(truncateText('x'.repeat(10), 10)).toBe('x'.repeat(10));
  });

  it('never splits a surrogate pair, wherever the cut falls', () => {
    for (let prefix = 0; prefix < 10; prefix++) {
      const text = 'a'.repeat(prefix) + '😀'.repeat(20);
      for (let max = 2; max < text.length; max++) {
        const cut = truncateText(text, max);
        expect(isWellFormed(cut), `prefix ${prefix}, max ${max}`).toBe(true);
        expect(cut.length).toBeLessThanOrEqual(max);
        expect(cut.endsWith('…')).toBe(true);
      }
    }
  });

  it('keeps grapheme clusters whole: flags, skin tones and ZWJ families are cut before, never inside', () => {
    expect(truncateText(`abc${'👨‍👩‍👧‍👦'}def`, 10)).toBe('abc…');
    expect(truncateText(`ab${'🇫🇷'}cd`, 5)).toBe('ab…');
  });

  it('gives a well-formed prefix within the limit for any text of emoji and letters, at every limit', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...EMOJI), { maxLength: 60 }), fc.integer({ min: 1, max: 120 }), (parts, max) => {
        const text = parts.join('');
        const cut = truncateText(text, max);
        expect(isWellFormed(cut)).toBe(true);
        expect(cut.length).toBeLessThanOrEqual(Math.max(max, 1));
        if (text.length <= max) expect(cut).toBe(text);
        else expect(text.startsWith(cut.slice(0, -1))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('loneSurrogatePath', () => {
  it('finds an unpaired surrogate in a value or a key, however deep, and names where', () => {
    expect(loneSurrogatePath({ a: [{ b: 'ok' }, { title: 'x\ud800' }] })).toBe('a[1].title');
    expect(loneSurrogatePath({ a: { ['k\udc00']: 1 } })).toBe('a."k\\udc00"');
    expect(loneSurrogatePath('\ud83d')).toBe('(body)');
  });

  it('accepts well-formed text, emoji included', () => {
    expect(loneSurrogatePath({ title: '😀👨‍👩‍👧‍👦', n: 1, x: null, list: ['🇫🇷'] })).toBeUndefined();
  });
});
