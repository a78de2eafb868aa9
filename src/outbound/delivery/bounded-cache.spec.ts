import { describe, expect, it } from 'vitest';
import { BoundedCache } from './bounded-cache';

describe('BoundedCache', () => {
  it('drops the least recently used entry beyond its size', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([1, undefined, 3]);
    expect(cache.size).toBe(2);
  });

  it('keeps the total weight within its bound, and nothing heavier than the bound', () => {
    const cache = new BoundedCache<string, string>(10, 100);
    cache.set('a', 'x', 60);
    cache.set('b', 'y', 30);
    cache.set('c', 'z', 30);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 'y', 'z']);
    cache.set('huge', 'w', 101);
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.size).toBe(2);
  });

  it('hands a taken value out once', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1);
    expect(cache.take('a')).toBe(1);
    expect(cache.take('a')).toBeUndefined();
  });
});
