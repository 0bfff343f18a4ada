import { LruMap } from './lru-map';

describe('LruMap', () => {
  it('when full, then the least recently used entry goes first, reads counting as use', () => {
    const map = new LruMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    expect(map.get('a')).toBe(1);
    map.set('c', 3);
    expect(map.get('b')).toBeUndefined();
    expect(map.get('a')).toBe(1);
    expect(map.get('c')).toBe(3);
    expect(map.size).toBe(2);
  });

  it('when an entry is written again or deleted, then it is replaced or gone', () => {
    const map = new LruMap<string, number>(2);
    map.set('a', 1);
    map.set('a', 5);
    expect(map.get('a')).toBe(5);
    map.delete('a');
    expect(map.get('a')).toBeUndefined();
    expect(map.size).toBe(0);
  });
});
