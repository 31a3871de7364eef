import { expectNoLeak, values } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GRUCell, LSTMCell, RNNCell } from './cells.js';

const CELLS = [
  { name: 'RNNCell tanh', make: (H: number) => new RNNCell({ inputSize: 3, hiddenSize: H }) },
  {
    name: 'RNNCell relu',
    make: (H: number) => new RNNCell({ inputSize: 3, hiddenSize: H, nonlinearity: 'relu' }),
  },
  { name: 'GRUCell', make: (H: number) => new GRUCell({ inputSize: 3, hiddenSize: H }) },
  { name: 'LSTMCell', make: (H: number) => new LSTMCell({ inputSize: 3, hiddenSize: H }) },
];

/** forward(x, state) as a list of outputs (h, or h and c). */
function run(m: RNNCell | GRUCell | LSTMCell, x: tf.Tensor, h: tf.Tensor): tf.Tensor[] {
  return m instanceof LSTMCell ? m.forward(x, [h, h]) : [m.forward(x, h)];
}

describe.each(CELLS)('$name: hiddenSize 0 and an empty batch, as PyTorch', ({ make }) => {
  it('hiddenSize 0 returns [B, 0] (and [0] unbatched); parameters of size 0', () => {
    const m = make(0);
    expect(m.parameters().every((p) => p.size === 0)).toBe(true);
    const x = tf.ones([3, 3]);
    const h = tf.zeros([3, 0]);
    const outs = expectNoLeak(() => run(m, x, h), m instanceof LSTMCell ? 2 : 1);
    for (const o of outs) expect(o.shape).toEqual([3, 0]);
    const x1 = tf.ones([3]);
    const single = m instanceof LSTMCell ? m.forward(x1) : m.forward(x1);
    const first = Array.isArray(single) ? single[0] : single;
    expect(first.shape).toEqual([0]);
    tf.dispose([x, h, x1, ...outs, ...(Array.isArray(single) ? single : [single])]);
    m.dispose();
  });

  it('an empty batch: outputs [0, H] and zero gradients for x, the state and every weight', () => {
    const m = make(4);
    const x = tf.zeros([0, 3]);
    const h = tf.zeros([0, 4]);
    const outs = run(m, x, h);
    for (const o of outs) expect(o.shape).toEqual([0, 4]);
    const { value, grads } = tf.variableGrads(
      () => tf.addN(run(m, x, h).map((o) => tf.sum(o))) as tf.Scalar,
      m.parameters(),
    );
    expect(Object.keys(grads)).toHaveLength(m.parameters().length);
    for (const g of Object.values(grads)) expect(values(g).every((v) => v === 0)).toBe(true);
    const gx = tf.grad((xx: tf.Tensor) => tf.sum(run(m, xx, h)[0]))(x);
    expect(gx.shape).toEqual([0, 3]);
    tf.dispose([x, h, value, gx, ...outs, ...Object.values(grads)]);
    m.dispose();
  });
});
