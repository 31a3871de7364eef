import { values } from '@rnnkit/vitest-config/helpers';
import { KINDS } from '@rnnkit/vitest-config/layers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

describe.each(KINDS)('$name: an empty batch, as PyTorch', (kind) => {
  it('outputs [T, 0, D*H] and states [L*D, 0, H]; backward gives zero gradients for every weight', () => {
    const m = kind.make({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true });
    const x = tf.zeros([5, 0, 3]);
    const h0 = tf.zeros([4, 0, 4]);
    const r = kind.run(m, x, h0, kind.name === 'LSTM' ? h0 : undefined);
    expect(r.output.shape).toEqual([5, 0, 8]);
    expect(r.hN.shape).toEqual([4, 0, 4]);
    const { value, grads } = tf.variableGrads(() => {
      const out = kind.run(m, x, h0, kind.name === 'LSTM' ? h0 : undefined);
      return tf.addN(out.all.map((t) => tf.sum(t))) as tf.Scalar;
    }, m.parameters());
    expect(Object.keys(grads)).toHaveLength(m.parameters().length);
    for (const g of Object.values(grads)) expect(values(g).every((v) => v === 0)).toBe(true);
    const gx = tf.grad((xx: tf.Tensor) => tf.sum(kind.run(m, xx).output))(x);
    expect(gx.shape).toEqual([5, 0, 3]);
    tf.dispose([x, h0, value, gx, ...r.all, ...Object.values(grads)]);
    m.dispose();
  });
});
