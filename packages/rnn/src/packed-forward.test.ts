import { enginePolicy } from '@rnnkit/cell/internal';
import { compare } from '@rnnkit/golden';
import { ShapeError } from '@rnnkit/ops';
import { expectParity, expectThrows } from '@rnnkit/vitest-config/helpers';
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

describe('RNN/LSTM/GRU.forward(PackedSequence) matches PyTorch', () => {
  // the packed output, its batch sizes and sorted indices, h_n (c_n) in the original batch order,
  // and the gradients of x and every parameter (tooling/golden checks/packed.mjs)
  for (const path of ['kernel', 'js'] as const) {
    for (const kind of ['rnn', 'lstm', 'gru']) {
      for (const dir of ['uni', 'bi']) {
        const name = `packed_forward_${kind}_${dir}`;
        it(`${name} (${path} path)`, () => {
          enginePolicy.kernel = path === 'kernel';
          try {
            expectParity('phase2', name, { RNN, LSTM, GRU, packPaddedSequence, PackedSequence });
          } finally {
            enginePolicy.kernel = true;
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
