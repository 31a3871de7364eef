import {
  crossEntropy,
  Linear,
  Module,
  manualSeed,
  mseLoss,
  trainChunk,
  trainStep,
} from '@rnnkit/ops';
import { LSTM, RNN } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { SequenceEncoder } from './encoder.js';

/** The adding problem: x [B,T,2] (value, marker with two ones), y [B,1] = sum of the two marked values. */
function addingBatch(B: number, T: number, rand: () => number): { x: tf.Tensor; y: tf.Tensor } {
  const x = new Float32Array(B * T * 2);
  const y = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    const i = Math.floor(rand() * (T / 2));
    const j = Math.floor(T / 2 + rand() * (T / 2));
    for (let t = 0; t < T; t++) {
      const v = rand();
      x[(b * T + t) * 2] = v;
      if (t === i || t === j) {
        x[(b * T + t) * 2 + 1] = 1;
        y[b] += v;
      }
    }
  }
  return { x: tf.tensor3d(x, [B, T, 2]), y: tf.tensor2d(y, [B, 1]) };
}

/** A deterministic stream for data (independent of rnnkit's generator). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

class Regressor extends Module {
  readonly rnn: LSTM;
  readonly head: Linear;
  constructor(hidden: number) {
    super();
    this.rnn = this.registerModule(
      'rnn',
      new LSTM({ inputSize: 2, hiddenSize: hidden, batchFirst: true }),
    );
    this.head = this.registerModule('head', new Linear(hidden, 1));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [, [h]] = this.rnn.forward(x);
      return this.head.forward(tf.squeeze(h, [0]));
    });
  }
}

describe('learning by backpropagation through time', () => {
  it('an LSTM learns the adding problem (T = 10) below MSE 0.03 (predicting the mean gives ~0.17)', () => {
    manualSeed(7);
    const rand = lcg(1);
    const model = new Regressor(16);
    const opt = tf.train.adam(0.01);
    const baseline = tf.memory().numTensors;
    let last = Number.POSITIVE_INFINITY;
    const losses: number[] = [];
    for (let step = 0; step < 600 && last > 0.01; step++) {
      const { x, y } = addingBatch(32, 10, rand);
      last = trainStep(model, () => mseLoss(model.forward(x), y), opt).loss;
      losses.push(last);
      tf.dispose([x, y]);
    }
    const { x, y } = addingBatch(256, 10, rand);
    const test = tf.tidy(() => mseLoss(model.forward(x), y).dataSync()[0]);
    tf.dispose([x, y]);
    expect(losses[0]).toBeGreaterThan(0.1);
    expect(test).toBeLessThan(0.03);
    // Adam's slots are the only tensors allowed to appear (two per parameter).
    expect(tf.memory().numTensors).toBe(baseline + 2 * model.parameters().length);
    opt.dispose();
    model.dispose();
  }, 120_000);

  it('a GRU encoder with an Embedding learns a token task (more 1s than 2s?) to >= 95% accuracy', () => {
    manualSeed(3);
    const rand = lcg(2);
    const enc = new SequenceEncoder({
      vocabSize: 3,
      embeddingDim: 8,
      paddingIdx: 0,
      cell: 'gru',
      hiddenSize: 16,
      pooling: 'mean',
      outputSize: 2,
    });
    const batch = (B: number) => {
      const T = 9;
      const ids = new Int32Array(B * T);
      const labels = new Int32Array(B);
      const lengths: number[] = [];
      for (let b = 0; b < B; b++) {
        const len = 1 + 2 * Math.floor(rand() * 5); // odd: no ties
        let ones = 0;
        for (let t = 0; t < len; t++) {
          ids[b * T + t] = rand() < 0.5 ? 1 : 2;
          if (ids[b * T + t] === 1) ones++;
        }
        labels[b] = ones * 2 > len ? 1 : 0;
        lengths.push(len);
      }
      return {
        ids: tf.tensor2d(ids, [B, T], 'int32'),
        labels: tf.tensor1d(labels, 'int32'),
        lengths,
      };
    };
    const opt = tf.train.adam(0.02);
    for (let step = 0; step < 300; step++) {
      const { ids, labels, lengths } = batch(32);
      trainStep(enc, () => crossEntropy(enc.forward(ids, { lengths }), labels), opt);
      tf.dispose([ids, labels]);
    }
    enc.eval();
    const { ids, labels, lengths } = batch(500);
    const acc = tf.tidy(
      () =>
        tf
          .mean(tf.cast(tf.equal(tf.argMax(enc.forward(ids, { lengths }), 1), labels), 'float32'))
          .dataSync()[0],
    );
    tf.dispose([ids, labels]);
    expect(acc).toBeGreaterThanOrEqual(0.95);
    opt.dispose();
    enc.dispose();
  }, 120_000);

  it('clipping bounds the update where an unclipped ReLU RNN explodes', () => {
    const make = () => {
      manualSeed(11);
      const m = new RNN({ inputSize: 4, hiddenSize: 16, nonlinearity: 'relu', batchFirst: true });
      // Recurrent weights with spectral radius well above 1: gradients explode over 60 steps.
      for (const [k, v] of m.namedParameters())
        if (k === 'weight_hh_l0')
          v.assign(tf.tidy(() => tf.add(tf.mul(tf.eye(16), 1.5), tf.mul(v, 0.1))));
      return m;
    };
    const x = tf.tidy(() => tf.abs(tf.randomNormal([2, 60, 4], 0, 1, 'float32', 5)));
    const loss = (m: RNN) => () => tf.tidy(() => tf.sum(m.forward(x)[0]) as tf.Scalar);
    const step = (clipNorm?: number) => {
      const m = make();
      const before = m.parameters().map((p) => tf.clone(p));
      const r = trainStep(m, loss(m), tf.train.sgd(1), clipNorm === undefined ? {} : { clipNorm });
      const moved = tf.tidy(() =>
        Math.sqrt(
          m
            .parameters()
            .reduce((s, p, i) => s + tf.sum(tf.square(tf.sub(p, before[i]))).dataSync()[0], 0),
        ),
      );
      tf.dispose(before);
      m.dispose();
      return { ...r, moved };
    };
    const free = step();
    const clipped = step(1);
    expect(free.gradNorm).toBeGreaterThan(1e6);
    expect(free.moved).toBeGreaterThan(1e6);
    expect(clipped.gradNorm).toBe(free.gradNorm);
    expect(clipped.moved).toBeLessThanOrEqual(1 + 1e-3);
    expect(clipped.moved).toBeGreaterThan(0.99);
    x.dispose();
  });

  it('truncated BPTT over a long stream carries the state, detaches it every k steps, and leaks nothing', () => {
    manualSeed(5);
    const lstm = new LSTM({ inputSize: 1, hiddenSize: 8, batchFirst: true });
    const head = new Linear(8, 1);
    const model = new (class extends Module {
      constructor() {
        super();
        this.registerModule('lstm', lstm);
        this.registerModule('head', head);
      }
      forward() {}
    })();
    // Predict the next value of a sine wave, streamed in chunks of k = 10 steps.
    const stream = Array.from({ length: 2001 }, (_, t) => Math.sin(t * 0.2));
    const opt = tf.train.adam(0.02);
    let state: [tf.Tensor, tf.Tensor] = [tf.zeros([1, 1, 8]), tf.zeros([1, 1, 8])];
    const baseline = tf.memory().numTensors;
    const losses: number[] = [];
    for (let start = 0; start + 10 < stream.length; start += 10) {
      const x = tf.tensor3d(stream.slice(start, start + 10), [1, 10, 1]);
      const y = tf.tensor3d(stream.slice(start + 1, start + 11), [1, 10, 1]);
      const r = trainChunk(
        model,
        state,
        (s) => {
          const [out, next] = lstm.forward(x, s);
          return { loss: mseLoss(head.forward(out), y), state: next };
        },
        opt,
      );
      state = r.state;
      losses.push(r.loss);
      tf.dispose([x, y]);
      if (start === 100)
        expect(tf.memory().numTensors).toBe(baseline + 2 * model.parameters().length);
    }
    expect(tf.memory().numTensors).toBe(baseline + 2 * model.parameters().length);
    const early = losses.slice(0, 10).reduce((a, b) => a + b) / 10;
    const late = losses.slice(-10).reduce((a, b) => a + b) / 10;
    expect(late).toBeLessThan(early / 10);
    tf.dispose(state);
    opt.dispose();
    model.dispose();
  }, 120_000);

  it('2,000 training steps leave the tensor count and bytes unchanged', () => {
    manualSeed(9);
    const enc = new SequenceEncoder({
      inputSize: 3,
      cell: 'gru',
      hiddenSize: 8,
      pooling: 'last',
      outputSize: 1,
    });
    const opt = tf.train.sgd(0.01);
    const x = tf.randomNormal([4, 6, 3], 0, 1, 'float32', 1);
    const y = tf.zeros([4, 1]);
    trainStep(enc, () => mseLoss(enc.forward(x, { lengths: [6, 3, 1, 5] }), y), opt, {
      clipNorm: 1,
    });
    const { numTensors, numBytes } = tf.memory();
    for (let i = 0; i < 2000; i++)
      trainStep(enc, () => mseLoss(enc.forward(x, { lengths: [6, 3, 1, 5] }), y), opt, {
        clipNorm: 1,
      });
    expect(tf.memory().numTensors).toBe(numTensors);
    expect(tf.memory().numBytes).toBe(numBytes);
    tf.dispose([x, y]);
    opt.dispose();
    enc.dispose();
  }, 120_000);
});
