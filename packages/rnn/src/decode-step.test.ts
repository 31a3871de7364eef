// A decoder's use of RNN, LSTM and GRU: one step at a time, the state carried from call to call.
// An inference runs on host arrays in the kernel (@rnnkit/cell's stackInference): stepping gives
// exactly the outputs and states of one forward over the whole sequence, each call makes only its
// results' tensors, and training-mode dropout still takes the tfjs path.
import { manualSeed } from '@rnnkit/ops';
import { expectEqual, expectNoLeak, randn } from '@rnnkit/vitest-config/helpers';
import { KINDS } from '@rnnkit/vitest-config/layers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

describe('decode step', () => {
  for (const kind of KINDS) {
    it(`${kind.name}: T steps carrying the state equal one forward over T steps, exactly`, () => {
      manualSeed(11);
      const m = kind.make({ inputSize: 5, hiddenSize: 7, numLayers: 2, batchFirst: true });
      const [B, T] = [3, 6];
      const x = randn([B, T, 5], 12);
      const h0 = randn([2, B, 7], 13);
      const c0 = kind.cell === 'lstm' ? randn([2, B, 7], 14) : undefined;
      tf.tidy(() => {
        const whole = kind.run(m, x, h0, c0);
        let h: tf.Tensor = h0;
        let c = c0;
        const outs: tf.Tensor[] = [];
        for (let t = 0; t < T; t++) {
          const step = kind.run(m, tf.slice(x, [0, t, 0], [B, 1, 5]), h, c);
          outs.push(step.output);
          h = step.hN;
          c = step.cN;
        }
        expectEqual(tf.concat(outs, 1), whole.output);
        expectEqual(h, whole.hN);
        if (c0) expectEqual(c!, whole.cN!);
      });
      tf.dispose([x, h0, c0 ?? []].flat());
      m.dispose();
    });

    it(`${kind.name}: a step makes its results' tensors only, and none stays behind`, () => {
      const m = kind.make({ inputSize: 8, hiddenSize: 8, batchFirst: true });
      const x = randn([1, 1, 8], 15);
      const results = kind.cell === 'lstm' ? 3 : 2; // output, h (, c)
      expectNoLeak(() => {
        const before = tf.scalar(0);
        const r = kind.run(m, x);
        const after = tf.scalar(0);
        // tensor ids count every tensor made in between, disposed or not
        expect(after.id - before.id - 1).toBe(results);
        tf.dispose([before, after, ...r.all]);
      });
      x.dispose();
      m.dispose();
    });
  }

  it('training-mode dropout between layers still applies (the tfjs path)', () => {
    manualSeed(16);
    const m = KINDS[0]!.make({ inputSize: 4, hiddenSize: 6, numLayers: 2, dropout: 0.5 });
    const x = randn([3, 2, 4], 17);
    const run = (seed: number) => {
      manualSeed(seed);
      return KINDS[0]!.run(m, x).output;
    };
    m.eval();
    const [a, b] = [run(1), run(2)];
    expectEqual(a, b);
    m.train();
    const [c, d] = [run(1), run(2)];
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(c, d))).dataSync()[0])).toBeGreaterThan(0);
    tf.dispose([x, a, b, c, d]);
    m.dispose();
  });
});
