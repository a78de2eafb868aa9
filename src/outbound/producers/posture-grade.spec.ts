import { describe, expect, it } from 'vitest';
import { gradeOf, isDegraded, postureScore } from './posture-grade';

const open = (counts: Partial<Record<'critical' | 'high' | 'medium' | 'low' | 'info', number>>) => ({ critical: 0, high: 0, medium: 0, low: 0, info: 0, ...counts });

describe('posture grading', () => {
  it.each([
    [open({}), 0, 'A'],
    [open({ info: 9 }), 0, 'A'],
    [open({ low: 1 }), 1, 'B'],
    [open({ medium: 2 }), 4, 'B'],
    [open({ high: 1 }), 5, 'C'],
    [open({ critical: 1 }), 10, 'D'],
    [open({ critical: 1, high: 1, medium: 2 }), 19, 'D'],
    [open({ critical: 2 }), 20, 'F'],
    [open({ high: 4 }), 20, 'F'],
  ] as const)('%o scores %i: %s', (counts, score, grade) => {
    expect(postureScore(counts)).toBe(score);
    expect(gradeOf(score)).toBe(grade);
  });

  it('calls a move to a worse grade a degradation', () => {
    expect(isDegraded('B', 'D')).toBe(true);
    expect(isDegraded('D', 'B')).toBe(false);
    expect(isDegraded('A', 'F')).toBe(true);
  });
});
