import { enginePolicy } from '@rnnkit/cell/internal';
import { compare } from '@rnnkit/golden';
import { ShapeError } from '@rnnkit/ops';
import { expectThrows, fixture } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GRU } from './gru.js';
import { LSTM } from './lstm.js';
import { packPaddedSequence, padPackedSequence } from './packed/pack.js';
import { PackedSequence } from './packed/sequence.js';
import { RNN } from './rnn.js';

// RNN/LSTM/GRU.forward on a PackedSequence against PyTorch (tooling/golden/phase2.py,
// packed_forward_*: unsorted lengths [2, 5, 1, 4], two bidirectional layers): the packed output,
// h_n (and c_n) in the original batch order, and the gradients of every parameter and of x.
const LAYERS = { RNN, LSTM, GRU } as const;

type Layer = RNN | LSTM | GRU;
/** Packs x with `lengths` (unsorted) and runs m: the packed output's data and the final states. */
function run(m: Layer, x: tf.Tensor, lengths: number[]) {
  const packed = packPaddedSequence(x, lengths, { enforceSorted: false });
  const [out, state] = (m as RNN).forward(packed) as unknown as [
    PackedSequence,
    tf.Tensor | tf.Tensor[],
  ];
  packed.dispose();
  const states = Array.isArray(state) ? state : [state];
  return { out, states };
}

describe('RNN/LSTM/GRU.forward(PackedSequence) matches PyTorch', () => {
  for (const path of ['kernel', 'js'] as const) {
    for (const kind of ['rnn', 'lstm', 'gru']) {
      for (const dir of ['uni', 'bi']) {
        const name = `packed_forward_${kind}_${dir}`;
        it(`${name} (${path} path)`, () => {
          enginePolicy.kernel = path === 'kernel';
          const { t, config } = fixture('phase2', name);
          const Layer = LAYERS[config.kind as keyof typeof LAYERS];
          const m = new Layer({
            inputSize: 3,
            hiddenSize: 4,
            numLayers: 2,
            bidirectional: config.bidirectional,
          });
          const before = tf.memory().numTensors;
          try {
            const sd: Record<string, tf.Tensor> = {};
            for (const [k, v] of Object.entries(t)) if (k.startsWith('param.')) sd[k.slice(6)] = v;
            m.loadStateDict(sd);
            const lengths = config.lengths as number[];
            const { out, states } = run(m, t['input.x'], lengths);
            expect(out).toBeInstanceOf(PackedSequence);
            expect(out.batchSizes).toEqual(Array.from(t['output.batch_sizes'].dataSync()));
            expect(out.sortedIndices).toEqual(Array.from(t['output.sorted_indices'].dataSync()));
            const names = ['h_n', 'c_n'];
            let forward = compare(out.data, t['output.data']).abs;
            states.forEach((s, i) => {
              forward = Math.max(forward, compare(s, t[`output.${names[i]}`]).abs);
            });
            tf.dispose([out.data, ...states]);
            expect(forward).toBeLessThanOrEqual(1e-6);
            const loss = (x: tf.Tensor) =>
              tf.tidy(() => {
                const r = run(m, x, lengths);
                const terms = [tf.sum(tf.mul(r.out.data, t['lossweight.data']))];
                r.states.forEach((s, i) => {
                  terms.push(tf.sum(tf.mul(s, t[`lossweight.${names[i]}`])));
                });
                return tf.addN(terms) as tf.Scalar;
              });
            const gx = tf.grad(loss)(t['input.x']);
            const { value, grads } = tf.variableGrads(() => loss(t['input.x']));
            let grad = compare(gx, t['grad.input.x']).rel;
            for (const [k, p] of m.namedParameters()) {
              grad = Math.max(grad, compare(grads[p.name], t[`grad.param.${k}`]).rel);
            }
            tf.dispose([gx, value, ...Object.values(grads)]);
            if (process.env.PARITY_LOG) console.log('PARITY', name, path, forward, grad);
            expect(grad).toBeLessThanOrEqual(1e-5);
            expect(tf.memory().numTensors).toBe(before);
          } finally {
            enginePolicy.kernel = true;
            m.dispose();
            tf.dispose(Object.values(t));
          }
        });
      }
    }
  }

  it('a packed input with sorted lengths, batchFirst, and the padded run give the same outputs', () => {
    const m = new GRU({ inputSize: 2, hiddenSize: 3, batchFirst: true, bidirectional: true });
    const x = tf.randomNormal([3, 4, 2], 0, 1, 'float32', 7);
    const lengths = [4, 3, 1];
    const packed = packPaddedSequence(x, lengths, { batchFirst: true });
    const [out, hN] = m.forward(packed);
    const [padded] = padPackedSequence(out, { batchFirst: true });
    const [want, wantH] = m.forward(x, undefined, { lengths });
    expect(out.sortedIndices).toBeUndefined();
    expect(compare(padded, want).abs).toBe(0);
    expect(compare(hN, wantH).abs).toBe(0);
    tf.dispose([x, packed.data, out.data, hN, padded, want, wantH]);
    m.dispose();
  });

  it('bad packed inputs: clear errors, nothing left behind', () => {
    const m = new LSTM({ inputSize: 2, hiddenSize: 3 });
    const x = tf.ones([3, 2, 2]);
    const packed = packPaddedSequence(x, [3, 2]);
    const call = m.forward.bind(m) as (...args: unknown[]) => unknown;
    expectThrows(() => call(packed, undefined, { lengths: [3, 2] }), TypeError, [
      'LSTM.forward(opts.lengths)',
      'PackedSequence',
    ]);
    const flat = new PackedSequence(tf.ones([5]), [2, 2, 1]);
    expectThrows(() => m.forward(flat), ShapeError, ['LSTM.forward(input.data)', '[N, I]']);
    const wide = new PackedSequence(tf.ones([5, 3]), [2, 2, 1]);
    expectThrows(() => m.forward(wide), ShapeError, ['LSTM.forward(input)', 'inputSize = 2']);
    tf.dispose([x, packed.data, flat.data, wide.data]);
    m.dispose();
  });
});
