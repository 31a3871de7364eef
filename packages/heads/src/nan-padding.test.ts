import { enginePolicy } from '@rnnkit/cell/internal';
import { trainStep } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { SequenceEncoder } from './encoder.js';
import { POOLINGS } from './pool.js';

// Padded steps are never read: NaN and Infinity beyond each sequence's length leave the loss, the
// gradient norm and every weight finite after a training step, for every cell kind and pooling,
// on the kernel and the JS path (the engine-level check against PyTorch: rnn's nan-padding.test.ts).
const lengths = [4, 2, 3];
function features(): tf.Tensor3D {
  const v = new Float32Array(3 * 4 * 5);
  for (let b = 0; b < 3; b++)
    for (let t = 0; t < 4; t++)
      for (let i = 0; i < 5; i++)
        v[(b * 4 + t) * 5 + i] =
          t < lengths[b]
            ? Math.cos(b * 7 + t * 3 + i)
            : b % 2
              ? Number.NaN
              : Number.NEGATIVE_INFINITY;
  return tf.tensor3d(v, [3, 4, 5]);
}

describe('SequenceEncoder.trainStep with NaN/Infinity at padded steps', () => {
  for (const path of ['kernel', 'js'] as const) {
    for (const cell of ['rnn', 'lstm', 'gru'] as const) {
      for (const pooling of POOLINGS.filter((p) => p !== 'flatten')) {
        it(`${cell}, ${pooling} (${path} path)`, () => {
          enginePolicy.kernel = path === 'kernel';
          const m = new SequenceEncoder({
            inputSize: 5,
            cell,
            hiddenSize: 3,
            numLayers: 2,
            bidirectional: true,
            pooling,
            outputSize: 2,
          });
          const x = features();
          const opt = tf.train.sgd(0.05);
          try {
            const { loss, gradNorm } = trainStep(
              m,
              () =>
                tf.tidy(() => {
                  const y = m.forward(x, { lengths });
                  // 'none' keeps padded steps (zeros there): the loss reads valid steps only
                  return tf.sum(
                    pooling === 'none' ? tf.slice(y, [0, 0, 0], [3, 2, 2]) : y,
                  ) as tf.Scalar;
                }),
              opt,
            );
            expect(Number.isFinite(loss)).toBe(true);
            expect(Number.isFinite(gradNorm) && gradNorm > 0).toBe(true);
            for (const [key, p] of m.namedParameters())
              expect(
                tf.tidy(() => tf.all(tf.isFinite(p)).dataSync()[0]),
                key,
              ).toBe(1);
          } finally {
            enginePolicy.kernel = true;
            tf.dispose([x]);
            opt.dispose();
            m.dispose();
          }
        });
      }
    }
  }
});
