import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { tutorialExample } from './tutorial.js';

describe('tutorialExample', () => {
  it("reproduces the tutorial's MyRNN shapes (3 outputs) and leaves no tensors behind", () => {
    const before = tf.memory().numTensors;
    const r = tutorialExample({ cell: 'myrnn' });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.shapes).toEqual({
      input: [2, 10, 300],
      h0: [2, 256],
      output: [2, 10, 256],
      h: [2, 256],
      c: null,
      predictions: [2, 10, 1],
    });
    expect(r.returns).toBe(3);
    expect(r.hiddenStates).toHaveLength(10);
    expect(r.hiddenStates.every((row) => row.length === 256)).toBe(true);
    // MyRNN's activation is ReLU: hidden states are never negative, and some are positive.
    expect(r.hiddenStates.flat().every((v) => v >= 0)).toBe(true);
    expect(r.hiddenStates.flat().some((v) => v > 0)).toBe(true);
    expect(r.predictions).toHaveLength(2);
    expect(r.predictions.every((row) => row.length === 10 && row.every(Number.isFinite))).toBe(
      true,
    );
    expect(r.code.at(-1)).toBe('hidden_states, h, predictions = rnn(xt, h0)');
    expect(r.rnnkitCode).toHaveLength(r.code.length);
    expect(r.rnnkitCode.at(-1)).toBe(
      'const { hiddenStates, h, predictions } = rnn.forward(xt, h0);',
    );
  });

  it.each([
    ['rnn', null],
    ['gru', null],
    ['lstm', [1, 3, 16]],
  ] as const)('nn.%s(batch_first=True): output [B,T,H], h_n [1,B,H], 2 outputs', (cell, c) => {
    const before = tf.memory().numTensors;
    const r = tutorialExample({ cell, batch: 3, seqLen: 7, inputSize: 5, hiddenSize: 16, seed: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.shapes).toEqual({
      input: [3, 7, 5],
      h0: null,
      output: [3, 7, 16],
      h: [1, 3, 16],
      c,
      predictions: [3, 7, 1],
    });
    expect(r.returns).toBe(2);
    expect(r.hiddenStates).toHaveLength(7);
    expect(r.hiddenStates[0]).toHaveLength(16);
    // tanh-bounded hidden states
    expect(r.hiddenStates.flat().every((v) => Math.abs(v) <= 1)).toBe(true);
    expect(r.predictions).toHaveLength(3);
  });

  it('is reproducible for a seed and differs across seeds', () => {
    const a = tutorialExample({ cell: 'gru', seqLen: 4, inputSize: 3, hiddenSize: 8, seed: 5 });
    const b = tutorialExample({ cell: 'gru', seqLen: 4, inputSize: 3, hiddenSize: 8, seed: 5 });
    const c = tutorialExample({ cell: 'gru', seqLen: 4, inputSize: 3, hiddenSize: 8, seed: 6 });
    expect(a.hiddenStates).toEqual(b.hiddenStates);
    expect(a.hiddenStates).not.toEqual(c.hiddenStates);
  });

  it('rejects bad options with a RangeError naming the option', () => {
    expect(() => tutorialExample({ cell: 'transformer' as never })).toThrow(
      /tutorialExample\(\{ cell \}\): expected one of rnn, lstm, gru, myrnn/,
    );
    expect(() => tutorialExample({ cell: 'rnn', hiddenSize: 0 })).toThrow(
      /tutorialExample\(\{ hiddenSize \}\).*got 0/,
    );
    expect(() => tutorialExample({ cell: 'rnn', seqLen: 2.5 })).toThrow(RangeError);
  });
});
