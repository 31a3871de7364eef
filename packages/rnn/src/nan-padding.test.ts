import { enginePolicy } from '@rnnkit/cell/internal';
import { adapters, checkFixture } from '@rnnkit/golden';
import { loadSafetensors, safetensorsMetadata, trainStep } from '@rnnkit/ops';
import { KINDS } from '@rnnkit/vitest-config/layers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GRU } from './gru.js';
import { LSTM } from './lstm.js';
import { RNN } from './rnn.js';

// Padded steps are never read (tooling/golden/phase2.py, nan_padding_*): NaN and Infinity beyond
// each sequence's length reach neither outputs nor gradients, on the kernel and the JS path.
const kinds = adapters({ RNN, LSTM, GRU });
const PATHS = ['kernel', 'js'] as const;

function onPath<T>(path: (typeof PATHS)[number], fn: () => T): T {
  enginePolicy.kernel = path === 'kernel';
  try {
    return fn();
  } finally {
    enginePolicy.kernel = true;
  }
}

describe('NaN and Infinity at padded steps match PyTorch (outputs and gradients)', () => {
  for (const path of PATHS) {
    for (const kind of ['rnn', 'lstm', 'gru']) {
      for (const dir of ['uni', 'bi']) {
        const name = `nan_padding_${kind}_${dir}`;
        it(`${name} (${path} path)`, () => {
          const r = onPath(path, () =>
            checkFixture('phase2', name, kinds, { loadSafetensors, safetensorsMetadata }),
          );
          expect(r.leaked, 'tensors leaked').toBe(0);
          expect(r.forward, `forward error at ${r.forwardAt}`).toBeLessThanOrEqual(1e-6);
          expect(r.grad, `gradient error at ${r.gradAt}`).toBeLessThanOrEqual(1e-5);
        });
      }
    }
  }
});

describe('trainStep with NaN in padded steps keeps every weight finite', () => {
  for (const path of PATHS) {
    for (const k of KINDS) {
      it(`${k.name} (${path} path, batchFirst, bidirectional)`, () => {
        const m = k.make({
          inputSize: 3,
          hiddenSize: 5,
          numLayers: 2,
          bidirectional: true,
          batchFirst: true,
        });
        const lengths = [4, 2, 3];
        const x = tf.tidy(() => {
          const pad = new Float32Array(3 * 4 * 3);
          for (let b = 0; b < 3; b++)
            for (let t = 0; t < 4; t++)
              for (let i = 0; i < 3; i++)
                pad[(b * 4 + t) * 3 + i] =
                  t < lengths[b]
                    ? Math.sin(b + t + i)
                    : b % 2
                      ? Number.NaN
                      : Number.POSITIVE_INFINITY;
          return tf.tensor3d(pad, [3, 4, 3]);
        });
        const opt = tf.train.sgd(0.1);
        const { loss, gradNorm } = onPath(path, () =>
          trainStep(m, () => tf.sum(k.run(m, x, undefined, undefined, { lengths }).output), opt),
        );
        expect(Number.isFinite(loss)).toBe(true);
        expect(Number.isFinite(gradNorm)).toBe(true);
        expect(gradNorm).toBeGreaterThan(0);
        for (const [key, p] of m.namedParameters()) {
          expect(
            tf.tidy(() => tf.all(tf.isFinite(p)).dataSync()[0]),
            key,
          ).toBe(1);
        }
        opt.dispose();
        x.dispose();
        m.dispose();
      });
    }
  }
});
