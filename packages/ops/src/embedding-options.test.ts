import { listFixtures } from '@rnnkit/golden';
import { expectClose, expectParity, expectThrows } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Embedding, embeddingLookup } from './embedding.js';
import { ShapeError } from './errors.js';

import { trainStep } from './train.js';

describe('Embedding maxNorm / normType / scaleGradByFreq: PyTorch fixtures', () => {
  // the lookup, the weight renormalised in place as torch.embedding_renorm_, and its gradient
  // (tooling/golden checks/ops.mjs)
  for (const name of listFixtures('embedding')) {
    it(name, () => {
      expectParity('embedding', name, { Embedding });
    });
  }

  it('test_embedding_max_norm: repeated ids give the same row, all norms <= maxNorm', () => {
    const m = new Embedding(22, 5, { maxNorm: 1 });
    const out = m.forward([2, 8, 8, 6]);
    const rows = tf.unstack(out);
    expect(Array.from(rows[1].dataSync())).toEqual(Array.from(rows[2].dataSync()));
    const norms = tf.norm(out, 2, 1);
    for (const n of norms.dataSync()) expect(n).toBeLessThanOrEqual(1 + 1e-6);
    tf.dispose([out, norms, ...rows]);
    m.dispose();
  });

  it('rejects bad maxNorm, normType and scaleGradByFreq', () => {
    expectThrows(() => new Embedding(4, 2, { maxNorm: -1 }), RangeError, [
      'Embedding({ maxNorm })',
      '>= 0',
      'got -1',
    ]);
    expectThrows(() => new Embedding(4, 2, { normType: '2' as never }), TypeError, [
      'Embedding({ normType })',
      'got "2"',
    ]);
    expectThrows(() => new Embedding(4, 2, { scaleGradByFreq: 1 as never }), TypeError, [
      'Embedding({ scaleGradByFreq })',
    ]);
  });
});

describe('Embedding.fromPretrained', () => {
  it('copies the weights, frozen by default (trainStep leaves them), trainable with freeze: false', () => {
    const a = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const frozen = Embedding.fromPretrained(a);
    expect(frozen.weight.trainable).toBe(false);
    expect(frozen.weight).not.toBe(a);
    expectClose(frozen.forward([0, 1]), a, 0);
    const free = Embedding.fromPretrained(a, { freeze: false });
    expect(free.weight.trainable).toBe(true);
    const opt = tf.train.sgd(0.1);
    const loss = () => tf.sum(tf.add(frozen.forward([0]), free.forward([1]))) as tf.Scalar;
    expectThrows(() => trainStep(frozen, loss, opt), TypeError, ['at least one trainable']);
    trainStep(free, loss, opt);
    expectClose(frozen.weight, a, 0);
    expect(Array.from(free.weight.dataSync())).toEqual([1, 2, 3, 3.9, 4.9, 5.9].map(Math.fround));
    frozen.dispose();
    free.dispose();
    a.dispose();
    opt.dispose();
  });

  it('keeps a pretrained padding row (not zeroed) and gives it no gradient', () => {
    const a = tf.tensor2d([
      [1, 1],
      [7, 7],
      [2, 3],
    ]);
    const m = Embedding.fromPretrained(a, { paddingIdx: 1, freeze: false });
    expect(Array.from(m.forward([1]).dataSync())).toEqual([7, 7]);
    const { grads } = tf.variableGrads(() => tf.sum(m.forward([1, 1, 2])), [m.weight]);
    expect(Array.from(grads[m.weight.name].dataSync())).toEqual([0, 0, 0, 0, 1, 1]);
    tf.dispose([a, ...Object.values(grads)]);
    m.dispose();
  });

  it('rejects weights that are not a 2-D float tensor and unknown options', () => {
    const v = tf.ones([3]);
    const ids = tf.tensor1d([0], 'int32');
    expectThrows(() => Embedding.fromPretrained(v as never), ShapeError, [
      'Embedding.fromPretrained(weights)',
      '2-D',
      'got shape [3]',
    ]);
    const int = tf.ones([2, 2], 'int32');
    expectThrows(() => Embedding.fromPretrained(int as tf.Tensor2D), TypeError, ['float32']);
    const w = tf.ones([2, 2]);
    expectThrows(
      () => Embedding.fromPretrained(w as tf.Tensor2D, { frozen: true } as never),
      TypeError,
      ['unknown option "frozen"'],
    );
    tf.dispose([v, ids, w, int]);
  });
});

describe("embeddingLookup: 'weight' must be 2-D", () => {
  it('test_embedding_scalar_weight_error: 0-d and 3-d weights are rejected', () => {
    const ids = tf.tensor2d([0, 0, 0, 0], [2, 2], 'int32');
    for (const weight of [tf.scalar(1), tf.ones([1, 1, 1])]) {
      expectThrows(() => embeddingLookup(weight, ids, null), ShapeError, [
        'embeddingLookup(weight)',
        "'weight' must be 2-D",
        `got shape [${weight.shape.join(',')}]`,
      ]);
      weight.dispose();
    }
    ids.dispose();
  });
});
