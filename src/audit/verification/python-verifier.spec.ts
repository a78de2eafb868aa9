import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jcs } from '../../event-store/hash-chain';

const SCRIPT = join(__dirname, '../../../scripts/verify-audit-export.py');

/** Random doubles over the whole range (every bit pattern that is a finite number), with awkward ones beside. */
function doubles(count: number): number[] {
  const values: number[] = [];
  while (values.length < count) {
    const value = randomBytes(8).readDoubleLE(0);
    if (Number.isFinite(value)) values.push(value);
  }
  return values;
}

describe('the Python verifier’s RFC 8785 agrees with the TypeScript side (canonicalize)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'towline-jcs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('on astral-plane keys, floats and escapes', () => {
    const values: unknown[] = [
      // UTF-16 order puts the astral 😀 (D83D DE00) and 𝄞 (D834 DD1E) before U+E000 and U+FFFD; code point order would not.
      { '\uE000': 1, '😀': 2, '𝄞': 3, a: 4, é: 5, '\uFFFD': 6, '': 7, A: 8, 'aa': 9 },
      { nested: { z: [1, { y: 2, x: 1 }], '\u0001': '\u0000\u001f\b\f\n\r\t"\\/\u007f\u2028' } },
      [0.1, 1e21, 1e20, 1e-7, 1e-6, 0.000001234, -0, 5e-324, 1.7976931348623157e308, 1 / 3, 123456789012345680000, 2 ** 53, -(2 ** 53) - 2, 4.35, 100, 1.5e300],
      doubles(400),
      Array.from({ length: 100 }, (_, i) => (i - 50) * 10 ** (i % 30 - 15)),
      { text: 'naïve 中文 😀 \ud83d\ude00' },
      [true, false, null, '', [], {}],
    ];
    const file = join(dir, 'values.json');
    writeFileSync(file, JSON.stringify(values));
    const lines = execFileSync('python3', [SCRIPT, '--canonicalize', file], { encoding: 'utf8' }).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(values.length);
    values.forEach((value, i) => {
      const canonical = jcs(value);
      expect(lines[i].jcs, `value ${i}`).toBe(canonical);
      expect(lines[i].sha256).toBe(createHash('sha256').update(canonical, 'utf8').digest('hex'));
    });
  });
});
