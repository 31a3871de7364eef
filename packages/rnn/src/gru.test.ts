import {
  at,
  expectEqual,
  expectNoLeak,
  paramShapes,
  randn,
  sliceAxis,
  values,
} from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GRU } from './gru.js';

describe('GRU', () => {
  it('returns [output, hN] with the tutorial sizes', () => {
    const xt = tf.randomUniform([2, 10, 300], 0, 1, 'float32', 1);
    const gru = new GRU({ inputSize: 300, hiddenSize: 256, batchFirst: true });
    const result = expectNoLeak(() => gru.forward(xt), 2);
    expect(result.length).toBe(2);
    const [output, hN] = result;
    expect(output.shape).toEqual([2, 10, 256]);
    expect(hN.shape).toEqual([1, 2, 256]);
    const last = tf.reshape(sliceAxis(output, 1, 9, 1), [2, 256]);
    const h = at(hN, 0);
    expectEqual(last, h);
    tf.dispose([xt, output, hN, last, h]);
    gru.dispose();
  });

  it('stacks 3 layers bidirectionally: output [T, B, 2H], hN [6, B, H]; unbatched [T, 2H], [6, H]', () => {
    const gru = new GRU({ inputSize: 4, hiddenSize: 3, numLayers: 3, bidirectional: true });
    const x = randn([5, 2, 4], 2);
    const [o, h] = gru.forward(x);
    expect([o.shape, h.shape]).toEqual([
      [5, 2, 6],
      [6, 2, 3],
    ]);
    const xu = randn([5, 4], 3);
    const [ou, hu] = gru.forward(xu);
    expect([ou.shape, hu.shape]).toEqual([
      [5, 6],
      [6, 3],
    ]);
    tf.dispose([x, o, h, xu, ou, hu]);
    gru.dispose();
  });

  it("has PyTorch's keys and shapes: weight_ih_l{k} [3H, in], weight_hh_l{k} [3H, H], biases [3H]", () => {
    const I = 4;
    const H = 3;
    const gru = new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true });
    const layer = (k: number, inSize: number) =>
      ['', '_reverse'].flatMap(
        (r): Array<[string, number[]]> => [
          [`weight_ih_l${k}${r}`, [3 * H, inSize]],
          [`weight_hh_l${k}${r}`, [3 * H, H]],
          [`bias_ih_l${k}${r}`, [3 * H]],
          [`bias_hh_l${k}${r}`, [3 * H]],
        ],
      );
    expect(paramShapes(gru)).toEqual([...layer(0, I), ...layer(1, 2 * H)]);
    gru.dispose();
  });

  it('keeps |h| <= 1 from a zero state (h is a convex mix of tanh values and the previous h)', () => {
    const gru = new GRU({ inputSize: 4, hiddenSize: 6, numLayers: 2 });
    const x = tf.tidy(() => tf.mul(randn([20, 3, 4], 4), 10));
    const [o, h] = gru.forward(x);
    expect(values(o).every((v) => Math.abs(v) <= 1)).toBe(true);
    expect(values(h).every((v) => Math.abs(v) <= 1)).toBe(true);
    tf.dispose([x, o, h]);
    gru.dispose();
  });
});
