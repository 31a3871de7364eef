import { describe, expect, it } from 'vitest';
import { loadNames } from './data.js';
import { fnv1a, splitOf } from './split.js';
import { namegenItems, nameItems, splitItems } from './tasks.js';

describe('the fixed split', () => {
  it('uses 32-bit FNV-1a (the same constants as tooling/golden/tasks.py)', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  it('is a function of the key alone: the same in every run', () => {
    expect(splitOf('mary')).toBe(splitOf('mary'));
    const keys = Array.from({ length: 2000 }, (_, i) => `k${i}`);
    expect(keys.map(splitOf)).toEqual(keys.map(splitOf));
  });

  it('splits the names into disjoint sets of about 80/10/10, identical on every call', () => {
    const { female, male } = loadNames();
    const a = splitItems(nameItems(female, male).items);
    const b = splitItems(nameItems([...female].reverse(), [...male].reverse()).items);
    const keys = (s: typeof a) => ({
      train: s.train.map((i) => i.key),
      val: s.val.map((i) => i.key),
      test: s.test.map((i) => i.key),
    });
    expect(keys(b)).toEqual(keys(a)); // input order does not matter
    const train = new Set(a.train.map((i) => i.key));
    const val = new Set(a.val.map((i) => i.key));
    expect(a.test.some((i) => train.has(i.key) || val.has(i.key))).toBe(false);
    expect(a.val.some((i) => train.has(i.key))).toBe(false);
    const n = a.train.length + a.val.length + a.test.length;
    expect(a.test.length / n).toBeGreaterThan(0.08);
    expect(a.test.length / n).toBeLessThan(0.12);
    expect(a.val.length / n).toBeGreaterThan(0.08);
    // both classes in every split
    for (const s of [a.train, a.val, a.test]) expect(new Set(s.map((i) => i.label)).size).toBe(2);
  });

  it('drops names that are in both lists, and keeps every name once for the generator', () => {
    const { items, ambiguous } = nameItems(['Jean', 'Mary', 'mary'], ['JEAN', 'John']);
    expect(ambiguous).toEqual(['jean']);
    expect(items.map((i) => [i.key, i.label])).toEqual([
      ['mary', 0],
      ['john', 1],
    ]);
    expect(namegenItems(['Jean', 'Mary'], ['jean']).map((i) => i.tokens.join(' '))).toEqual([
      '<s> j e a n </s>',
      '<s> m a r y </s>',
    ]);
  });
});
