import { describe, expect, it } from 'vitest';
import { activeSecrets, rotateSecrets } from './secret-rotation';

describe('secret rotation (one rule for sources and webhooks)', () => {
  const first = { id: 'a', expiresAt: null };
  const rotatedAt = '2026-01-01T00:00:00.000Z';
  const graceEnd = '2026-01-02T00:00:00.000Z';

  it('keeps the previous secret until the end of the grace period, the new one open-ended', () => {
    const after = rotateSecrets([first], { id: 'b', expiresAt: null }, rotatedAt, graceEnd);
    expect(after).toEqual([
      { id: 'a', expiresAt: graceEnd },
      { id: 'b', expiresAt: null },
    ]);
    expect(activeSecrets(after, Date.parse('2026-01-01T12:00:00Z')).map((s) => s.id)).toEqual(['a', 'b']);
    expect(activeSecrets(after, Date.parse(graceEnd)).map((s) => s.id)).toEqual(['b']);
  });

  it('never extends an earlier expiry, drops what had expired by the rotation, and ignores a rotation applied twice', () => {
    const soon = { id: 'old', expiresAt: '2026-01-01T06:00:00.000Z' };
    const gone = { id: 'older', expiresAt: '2025-12-31T00:00:00.000Z' };
    const after = rotateSecrets([gone, soon, first], { id: 'b', expiresAt: null }, rotatedAt, graceEnd);
    expect(after.map((s) => [s.id, s.expiresAt])).toEqual([
      ['old', '2026-01-01T06:00:00.000Z'],
      ['a', graceEnd],
      ['b', null],
    ]);
    expect(rotateSecrets(after, { id: 'b', expiresAt: null }, rotatedAt, graceEnd)).toEqual(after);
  });
});
