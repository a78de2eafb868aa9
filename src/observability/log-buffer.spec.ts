import { describe, expect, it } from 'vitest';
import { LogBuffer } from './log-buffer';

const line = (n: number, msg = `record ${n}`) => `${JSON.stringify({ n, msg })}\n`;

describe('LogBuffer', () => {
  it('keeps only the last records, oldest first', () => {
    const buffer = new LogBuffer(3);
    for (let n = 1; n <= 5; n++) buffer.write(line(n));
    expect(buffer.tail(10).map((r) => r.n)).toEqual([3, 4, 5]);
    expect(buffer.tail(2).map((r) => r.n)).toEqual([4, 5]);
  });

  it('filters case-insensitively before taking the tail', () => {
    const buffer = new LogBuffer(10);
    buffer.write(line(1, 'Webhook accepted'));
    buffer.write(line(2, 'incoming request'));
    buffer.write(line(3, 'webhook refused'));
    buffer.write(line(4, 'other'));
    expect(buffer.tail(10, 'WEBHOOK').map((r) => r.n)).toEqual([1, 3]);
    expect(buffer.tail(1, 'webhook').map((r) => r.n)).toEqual([3]);
    expect(buffer.tail(10, 'nothing')).toEqual([]);
  });
});
