import { ShapeError } from '@rnnkit/ops';
import { expectThrows, maxAbsDiff, randn, seeded } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { createRecurrentWeights } from '../weights.js';
import { runSequence } from './run.js';

const T = 4;
const B = 3;
const I = 5;
const H = 6;

describe('runSequence', () => {
  const w = seeded(3, () =>
    createRecurrentWeights((_, v) => tf.variable(v), '', 'lstm', I, H, true, 0),
  );
  const init = () => ({ h: tf.zeros([B, H]), c: tf.zeros([B, H]) });
  afterAll(() =>
    tf.dispose(Object.values(w).filter((v): v is tf.Tensor => v instanceof tf.Tensor)),
  );

  it('with batchFirst reads [B, T, I] and returns [B, T, H]: the time-major result, transposed (inference and gradient path)', () => {
    const x = randn([T, B, I], 1);
    const xb = tf.transpose(x, [1, 0, 2]) as tf.Tensor3D;
    const lengths = [4, 2, 3];
    for (const reverse of [false, true]) {
      const timeMajor = tf.tidy(() =>
        runSequence(w, x as tf.Tensor3D, init(), { reverse, lengths }),
      );
      const inference = tf.tidy(() =>
        runSequence(w, xb, init(), { reverse, lengths, batchFirst: true }),
      );
      // Under a gradient tape: the differentiable path.
      const taped = tf.grads((xs: tf.Tensor) => {
        const r = runSequence(w, xs as tf.Tensor3D, init(), { reverse, lengths, batchFirst: true });
        return tf.sum(tf.mul(r.output, tf.reshape(tf.range(0, B * T * H), [B, T, H])));
      })([xb]);
      const tapedOut = tf.tidy(() => {
        const r = runSequence(w, xb, init(), { reverse, lengths, batchFirst: true });
        return r.output;
      });
      expect(inference.output.shape).toEqual([B, T, H]);
      const expected = tf.transpose(timeMajor.output, [1, 0, 2]);
      expect(maxAbsDiff(inference.output, expected)).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(tapedOut, expected)).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(inference.state.h, timeMajor.state.h)).toBeLessThanOrEqual(1e-6);
      expect(taped[0]!.shape).toEqual([B, T, I]);
      tf.dispose([timeMajor.output, timeMajor.state.h, timeMajor.state.c!, expected, tapedOut]);
      tf.dispose([inference.output, inference.state.h, inference.state.c!, ...taped]);
    }
    tf.dispose([x, xb]);
  });

  it('names the argument, what it expected and what it got, and leaves nothing behind', () => {
    const x = randn([T, B, I], 2) as tf.Tensor3D;
    const x2 = tf.zeros([B, I]);
    const s0 = init();
    const before = tf.memory().numTensors;
    expectThrows(() => runSequence(w, x, s0, { batch_first: true } as never), TypeError, [
      'runSequence(opts)',
      'unknown option "batch_first"',
      'did you mean "batchFirst"?',
    ]);
    expectThrows(() => runSequence(w, x, s0, { batchFirst: 'yes' as never }), TypeError, [
      'runSequence(opts.batchFirst)',
      'expected true or false',
      'got',
    ]);
    expectThrows(() => runSequence(w, x, s0, { reverse: 1 as never }), TypeError, [
      'runSequence(opts.reverse)',
      'expected true or false',
      'got',
    ]);
    expectThrows(() => runSequence(w, x2 as tf.Tensor3D, s0, { batchFirst: true }), ShapeError, [
      'runSequence(x)',
      'expected rank 3 ([B, T, I] (batchFirst))',
      'got rank 2 with shape [3,5]',
    ]);
    expect(tf.memory().numTensors).toBe(before);
    const r = tf.tidy(() => runSequence(w, x, s0).output);
    expect(r.shape).toEqual([T, B, H]);
    tf.dispose([x, x2, r, s0.h, s0.c]);
  });
});
