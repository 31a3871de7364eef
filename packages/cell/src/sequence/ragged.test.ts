import { compare } from '@rnnkit/golden';
import { fixture } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { enginePolicy } from '../policy.js';
import { type CellMode, createRecurrentWeights, type RecurrentWeights } from '../weights.js';
import { runSequence } from './run.js';

// The engine on ragged batches against PyTorch, below the layers: runSequence with `lengths`
// (unsorted [2, 5, 1, 4], NaN and Infinity at every padded step), stacked by hand as two
// bidirectional layers, against the phase2/nan_padding_* fixtures (PyTorch on a PackedSequence):
// outputs, final states and the gradients of x and every weight, on the kernel and the JS path.
const MODES: Record<string, CellMode> = { rnn: 'rnn_tanh', lstm: 'lstm', gru: 'gru' };

describe('runSequence with lengths matches PyTorch (ragged, NaN in padding)', () => {
  for (const path of ['kernel', 'js'] as const) {
    for (const [kind, mode] of Object.entries(MODES)) {
      for (const dir of ['uni', 'bi']) {
        it(`nan_padding_${kind}_${dir} (${path} path)`, () => {
          const { t, config } = fixture('phase2', `nan_padding_${kind}_${dir}`);
          const D = config.bidirectional ? 2 : 1;
          const B = t['input.x'].shape[1] as number;
          const lengths = config.lengths as number[];
          const named: Array<[string, tf.Variable]> = [];
          const weights: RecurrentWeights[][] = [0, 1].map((layer) =>
            Array.from({ length: D }, (_, d) =>
              createRecurrentWeights(
                (n, v) => {
                  v.dispose();
                  const p = tf.variable(t[`param.${n}`]);
                  named.push([n, p]);
                  return p;
                },
                `_l${layer}${d ? '_reverse' : ''}`,
                mode,
                layer ? 4 * D : 3,
                4,
                true,
              ),
            ),
          );
          const stack = (x: tf.Tensor) => {
            let input = x as tf.Tensor3D;
            const hs: tf.Tensor[] = [];
            const cs: tf.Tensor[] = [];
            for (const layer of weights) {
              const outs = layer.map((w, d) => {
                const init = {
                  h: tf.zeros([B, 4]),
                  c: mode === 'lstm' ? tf.zeros([B, 4]) : undefined,
                };
                const { output, state } = runSequence(w, input, init, {
                  lengths,
                  reverse: d === 1,
                });
                hs.push(state.h);
                if (state.c) cs.push(state.c);
                return output;
              });
              input = (D === 1 ? outs[0] : tf.concat(outs, 2)) as tf.Tensor3D;
            }
            const out: Record<string, tf.Tensor> = { output: input, h_n: tf.stack(hs) };
            if (cs.length) out.c_n = tf.stack(cs);
            return out;
          };
          enginePolicy.kernel = path === 'kernel';
          try {
            let forward = 0;
            tf.tidy(() => {
              for (const [k, v] of Object.entries(stack(t['input.x'])))
                forward = Math.max(forward, compare(v, t[`output.${k}`]).abs);
            });
            const loss = (x: tf.Tensor) =>
              tf.tidy(() => {
                const o = stack(x);
                return tf.addN(
                  Object.keys(o).map((k) => tf.sum(tf.mul(o[k], t[`lossweight.${k}`]))),
                ) as tf.Scalar;
              });
            const gx = tf.grad(loss)(t['input.x']);
            const vars = named.map(([, p]) => p);
            const { value, grads } = tf.variableGrads(() => loss(t['input.x']), vars);
            let grad = compare(gx, t['grad.input.x']).rel;
            for (const [n, p] of named)
              grad = Math.max(grad, compare(grads[p.name], t[`grad.param.${n}`]).rel);
            tf.dispose([gx, value, ...Object.values(grads)]);
            expect(forward).toBeLessThanOrEqual(1e-6);
            expect(grad).toBeLessThanOrEqual(1e-5);
          } finally {
            enginePolicy.kernel = true;
            tf.dispose([...named.map(([, p]) => p), ...Object.values(t)]);
          }
        });
      }
    }
  }
});
