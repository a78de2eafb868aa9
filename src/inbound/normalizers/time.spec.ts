import { describe, expect, it } from 'vitest';
import { occurredAt, parseTime } from './time';

const receivedAt = new Date('2024-06-01T12:00:00.000Z');
const at = (value: unknown): string => occurredAt(receivedAt, value);

describe('vendor times', () => {
  it('reads epoch seconds and milliseconds, as numbers or numeric strings, by magnitude', () => {
    expect(at(1705320000)).toBe('2024-01-15T12:00:00.000Z');
    expect(at(1705320000000)).toBe('2024-01-15T12:00:00.000Z');
    expect(at('1705320000')).toBe('2024-01-15T12:00:00.000Z');
    expect(at('1705320000.250')).toBe('2024-01-15T12:00:00.250Z');
    expect(at('1705320000123')).toBe('2024-01-15T12:00:00.123Z');
  });

  it('converts ISO 8601 with any offset to UTC', () => {
    expect(at('2024-01-15T10:00:00Z')).toBe('2024-01-15T10:00:00.000Z');
    expect(at('2024-01-15T15:30:00+05:30')).toBe('2024-01-15T10:00:00.000Z');
    expect(at('2024-01-15T05:00:00-0500')).toBe('2024-01-15T10:00:00.000Z');
    expect(at('2024-01-15 10:00:00+01')).toBe('2024-01-15T09:00:00.000Z');
  });

  it('accepts Graph and Go fractional seconds (7 and 9 digits), keeping milliseconds', () => {
    expect(at('2021-04-27T12:19:27.7211305Z')).toBe('2021-04-27T12:19:27.721Z');
    expect(at('2024-01-15T10:00:00.123456789Z')).toBe('2024-01-15T10:00:00.123Z');
  });

  it('reads zoneless ISO text as UTC, whatever the server time zone', () => {
    expect(at('2024-01-15T10:00:00')).toBe('2024-01-15T10:00:00.000Z');
  });

  it('accepts RFC 2822 text only with an explicit zone', () => {
    expect(at('Mon, 15 Jan 2024 10:00:00 GMT')).toBe('2024-01-15T10:00:00.000Z');
    expect(at('Mon, 15 Jan 2024 11:00:00 +0100')).toBe('2024-01-15T10:00:00.000Z');
    expect(at('01/15/2024 10:00')).toBe(receivedAt.toISOString());
  });

  it('falls back to the receive time when the time is missing, unparseable or an unset marker', () => {
    expect(at(undefined)).toBe(receivedAt.toISOString());
    expect(at(null)).toBe(receivedAt.toISOString());
    expect(at('yesterday')).toBe(receivedAt.toISOString());
    expect(at('2024-13-45T10:00:00Z')).toBe(receivedAt.toISOString());
    expect(at('0001-01-01T00:00:00Z')).toBe(receivedAt.toISOString());
    expect(at(0)).toBe(receivedAt.toISOString());
    expect(at(Number.MAX_VALUE)).toBe(receivedAt.toISOString());
  });

  it('takes the first usable candidate', () => {
    expect(occurredAt(receivedAt, 'garbage', undefined, 1705320000)).toBe('2024-01-15T12:00:00.000Z');
    expect(parseTime({})).toBeUndefined();
  });
});
