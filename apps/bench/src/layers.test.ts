import { manualSeed, mseLoss, trainStep } from '@rnnkit/ops';
import { createLayer } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CellKind } from './cases.js';
import { buildLayersModel, toKeras, torchWeights } from './layers.js';
import { naiveForward } from './naive.js';
import { maxAbsDiff, randomArray } from './stats.js';

const B = 3;
const T = 6;
const I = 5;
const H = 4;

function make(cell: CellKind) {
  manualSeed(42);
  return createLayer(cell, { inputSize: I, hiddenSize: H, batchFirst: true });
}

// Correctness of the weight conversion (PyTorch layout -> Keras layout), never timings.
describe.each(['rnn', 'lstm', 'gru'] as const)('%s: tfjs-layers with converted weights', (cell) => {
  let before = 0;
  beforeEach(() => {
    before = tf.memory().numTensors;
  });
  afterEach(() => {
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives rnnkit output, and so does the naive loop', () => {
    const model = make(cell).eval();
    const sd = model.stateDict();
    const x = tf.tensor3d(
      randomArray(B * T * I, 1).map((v) => v * 2),
      [B, T, I],
    );
    const { model: km, layer } = buildLayersModel(cell, torchWeights(sd));
    const ours = tf.tidy(() => model.forward(x)[0]);
    const theirs = tf.tidy(() => layer.apply(x) as tf.Tensor);
    const naive = naiveForward(cell, torchWeights(sd), x);
    expect(theirs.shape).toEqual([B, T, H]);
    expect(maxAbsDiff(theirs.dataSync(), ours.dataSync())).toBeLessThan(1e-5);
    expect(maxAbsDiff(naive.dataSync(), ours.dataSync())).toBeLessThan(1e-5);
    tf.dispose([ours, theirs, naive, x, ...Object.values(sd)]);
    km.dispose();
    model.dispose();
  });

  it('takes the same Adam step as rnnkit (same loss, same updated weights)', async () => {
    const model = make(cell).train();
    const sd = model.stateDict();
    const x = tf.tensor3d(randomArray(B * T * I, 2), [B, T, I]);
    const y = tf.tensor3d(randomArray(B * T * H, 3), [B, T, H]);
    const { model: km } = buildLayersModel(cell, torchWeights(sd));
    const optK = tf.train.adam(0.01);
    km.compile({ optimizer: optK, loss: 'meanSquaredError' });
    const optR = tf.train.adam(0.01);
    const { loss } = trainStep(model, () => mseLoss(model.forward(x)[0], y) as tf.Scalar, optR);
    const lossK = (await km.trainOnBatch(x, y)) as number;
    expect(Math.abs(lossK - loss)).toBeLessThan(1e-5);
    const after = model.stateDict();
    const expected = toKeras(cell, torchWeights(after));
    const got = km.getWeights();
    expect(got.map((w) => w.shape)).toEqual(expected.map((w) => w.shape));
    // Kernels always match. RNN/LSTM biases do not, by construction: PyTorch trains bias_ih and
    // bias_hh apart (both get the step), Keras their sum once; GRU keeps them apart in both.
    const n = cell === 'gru' ? 3 : 2;
    for (let k = 0; k < n; k++) {
      expect(maxAbsDiff(got[k].dataSync(), expected[k].dataSync())).toBeLessThan(1e-5);
    }
    tf.dispose([x, y, ...expected, ...Object.values(sd), ...Object.values(after)]);
    km.dispose();
    optK.dispose();
    optR.dispose();
    model.dispose();
  });
});

describe('toKeras', () => {
  it('transposes, sums the LSTM biases and keeps the gate order i,f,g,o', () => {
    const w = tf.tidy(() => ({
      weight_ih: tf.reshape(tf.range(0, 4 * H * I), [4 * H, I]) as tf.Tensor2D,
      weight_hh: tf.reshape(tf.range(0, 4 * H * H), [4 * H, H]) as tf.Tensor2D,
      bias_ih: tf.range(0, 4 * H) as tf.Tensor1D,
      bias_hh: tf.fill([4 * H], 100) as tf.Tensor1D,
    }));
    const [k, rk, b] = toKeras('lstm', w);
    expect(k.shape).toEqual([I, 4 * H]);
    expect(rk.shape).toEqual([H, 4 * H]);
    expect(Array.from(b.dataSync())).toEqual(Array.from({ length: 4 * H }, (_, i) => i + 100));
    // kernel[i][j] = weight_ih[j][i]
    expect((k.arraySync() as number[][])[2][7]).toBe((w.weight_ih.arraySync() as number[][])[7][2]);
    tf.dispose([k, rk, b, ...Object.values(w)]);
  });

  it('reorders GRU gates r,z,n to z,r,h and keeps the two biases apart', () => {
    const w = tf.tidy(() => ({
      weight_ih: tf.concat([
        tf.fill([H, I], 1),
        tf.fill([H, I], 2),
        tf.fill([H, I], 3),
      ]) as tf.Tensor2D,
      weight_hh: tf.concat([
        tf.fill([H, H], 1),
        tf.fill([H, H], 2),
        tf.fill([H, H], 3),
      ]) as tf.Tensor2D,
      bias_ih: tf.concat([tf.fill([H], 1), tf.fill([H], 2), tf.fill([H], 3)]) as tf.Tensor1D,
      bias_hh: tf.concat([tf.fill([H], 10), tf.fill([H], 20), tf.fill([H], 30)]) as tf.Tensor1D,
    }));
    const [k, rk, b] = toKeras('gru', w);
    const gates = (t: tf.Tensor) => (t.arraySync() as number[][])[0].filter((_, j) => j % H === 0);
    expect(gates(k)).toEqual([2, 1, 3]); // z (PyTorch's 2nd block), r, h
    expect(gates(rk)).toEqual([2, 1, 3]);
    expect(b.shape).toEqual([2, 3 * H]);
    expect((b.arraySync() as number[][]).map((row) => row.filter((_, j) => j % H === 0))).toEqual([
      [2, 1, 3],
      [20, 10, 30],
    ]);
    tf.dispose([k, rk, b, ...Object.values(w)]);
  });

  it('stock tf.layers.gru (reset_after=False) is a different function: why the bench brings its own cell', () => {
    const model = make('gru').eval();
    const sd = model.stateDict();
    const x = tf.tensor3d(
      randomArray(B * T * I, 4).map((v) => v * 3),
      [B, T, I],
    );
    const { model: km, layer } = buildLayersModel('gru', torchWeights(sd), { stockGru: true });
    const ours = tf.tidy(() => model.forward(x)[0]);
    const theirs = tf.tidy(() => layer.apply(x) as tf.Tensor);
    expect(maxAbsDiff(theirs.dataSync(), ours.dataSync())).toBeGreaterThan(1e-3);
    tf.dispose([ours, theirs, x, ...Object.values(sd)]);
    km.dispose();
    model.dispose();
  });
});
