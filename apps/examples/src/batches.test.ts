import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { epochOrder, epochOrders, padBatch, padIds } from './batches.js';

describe('epochOrder', () => {
  it('is a seeded permutation: same seed and epoch, same order; partial batch last', () => {
    const lengths = Array.from({ length: 103 }, (_, i) => 1 + ((i * 37) % 17));
    const a = epochOrder(lengths, 10, 7, 0);
    expect(epochOrder(lengths, 10, 7, 0)).toEqual(a);
    expect([...a].sort((x, y) => x - y)).toEqual(lengths.map((_, i) => i));
    expect(epochOrder(lengths, 10, 7, 1)).not.toEqual(a);
    expect(epochOrder(lengths, 10, 8, 0)).not.toEqual(a);
    // items of similar length share a batch: the spread within batches is small
    const spread = (o: number[]) => {
      let s = 0;
      for (let b = 0; b < o.length; b += 10) {
        const ls = o.slice(b, b + 10).map((i) => lengths[i]);
        s += Math.max(...ls) - Math.min(...ls);
      }
      return s;
    };
    expect(spread(a)).toBeLessThan(spread(lengths.map((_, i) => i)));
  });
});

describe('epochOrders', () => {
  it('is epochOrder of every epoch', () => {
    const lengths = [3, 1, 4, 1, 5, 9, 2, 6];
    expect(epochOrders(lengths, 3, 2, 2)).toEqual([
      epochOrder(lengths, 3, 2, 0),
      epochOrder(lengths, 3, 2, 1),
    ]);
  });
});

describe('padIds and padBatch', () => {
  it('pad rows with 0 to the longest one (at least 1 column)', () => {
    const n = tf.memory().numTensors;
    const ids = padIds([[5, 6], [], [7]]);
    expect(ids.dtype).toBe('int32');
    expect(ids.arraySync()).toEqual([
      [5, 6],
      [0, 0],
      [7, 0],
    ]);
    const empty = padIds([[], []]);
    expect(empty.shape).toEqual([2, 1]);
    const b = padBatch([[5, 6], []]);
    expect(b.lengths).toEqual([2, 1]);
    expect(b.ids.shape).toEqual([2, 2]);
    tf.dispose([ids, empty, b.ids]);
    expect(tf.memory().numTensors).toBe(n);
  });
});
