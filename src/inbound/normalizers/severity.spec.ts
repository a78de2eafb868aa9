import { describe, expect, it } from 'vitest';
import { resolveSeverity, severityFromAny, severityFromFivePoint, severityFromPercent, severityFromWord } from './severity';
import type { NormalizeContext, Severity } from './types';

const ctx: NormalizeContext = { receivedAt: new Date(0) };

describe('severity mapping', () => {
  it('folds vendor words onto five levels, case-insensitively', () => {
    expect(['Critical', 'page', 'HIGH', 'error', 'Medium', 'warning', 'low', 'Informational', 'info'].map(severityFromWord)).toEqual([
      'critical', 'critical', 'high', 'high', 'medium', 'medium', 'low', 'info', 'info',
    ]);
    expect(['P1', 'p3', 'P5'].map(severityFromWord)).toEqual(['critical', 'medium', 'info']);
    expect(severityFromWord('unknown')).toBeUndefined();
  });

  it('reads the 1–5 scale as informational … critical', () => {
    expect(['1', '2', '3', '4', '5', '0', '6', '2.5'].map(severityFromFivePoint)).toEqual([
      'info', 'low', 'medium', 'high', 'critical', undefined, undefined, undefined,
    ]);
  });

  it('reads 0–100 in bands of twenty', () => {
    const bands: [string, Severity | undefined][] = [
      ['0', 'info'], ['19', 'info'], ['20', 'low'], ['39', 'low'], ['40', 'medium'], ['59', 'medium'],
      ['60', 'high'], ['79', 'high'], ['80', 'critical'], ['100', 'critical'], ['101', undefined], ['-5', undefined],
    ];
    for (const [raw, expected] of bands) expect(severityFromPercent(raw), raw).toBe(expected);
  });

  it('guesses a scale for undocumented values: words, then 1–5, then 0–100', () => {
    expect(['high', '4', '85', '0', 'bogus'].map(severityFromAny)).toEqual(['high', 'high', 'critical', 'info', undefined]);
  });

  it("applies the source's mapping before the vendor's, matching keys case-insensitively", () => {
    const mapped = { ...ctx, severityMapping: { HIGH: 'critical' as const, '4': 'low' as const } };
    expect(resolveSeverity(mapped, severityFromWord, 'High')).toBe('critical');
    expect(resolveSeverity(mapped, severityFromFivePoint, '4')).toBe('low');
    expect(resolveSeverity(mapped, severityFromWord, 'low')).toBe('low');
  });

  it('tries each raw value against the mapping before any vendor mapping', () => {
    const mapped = { ...ctx, severityMapping: { '85': 'low' as const } };
    expect(resolveSeverity(mapped, severityFromAny, 'High', '85')).toBe('low');
    expect(resolveSeverity(ctx, severityFromAny, 'High', '85')).toBe('high');
  });

  it('ignores mapping targets that are not severities', () => {
    const mapped = { ...ctx, severityMapping: { high: 'urgent' } as unknown as Record<string, Severity> };
    expect(resolveSeverity(mapped, severityFromWord, 'high')).toBe('high');
  });

  it("uses the source default, else medium, when there is no usable value", () => {
    expect(resolveSeverity(ctx, severityFromWord, null)).toBe('medium');
    expect(resolveSeverity(ctx, severityFromWord, 'unknown')).toBe('medium');
    expect(resolveSeverity({ ...ctx, defaultSeverity: 'low' }, severityFromWord, undefined)).toBe('low');
  });
});
