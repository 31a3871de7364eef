import { LSTMCell } from '@rnnkit/cell';
import { compare } from '@rnnkit/golden';
import { crossEntropy, Embedding, Linear, Module, trainStep } from '@rnnkit/ops';
import { expectParity, expectThrows } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GRU } from './gru.js';
import { LSTM } from './lstm.js';

describe('weight tying: a tied language model trained with SGD, as PyTorch', () => {
  // Embedding(V, E) -> LSTM(E, E, batchFirst) -> Linear(E, V) tied to the embedding (tooling/golden
  // checks/train.mjs): same state-dict keys and parameters, then 5 SGD steps from PyTorch's
  // weights give the same losses and final weights (within 1e-6), nothing left behind
  it('tied_lm_sgd', () => {
    expectParity('tying', 'tied_lm_sgd', {
      Module,
      Embedding,
      LSTM,
      Linear,
      trainStep,
      crossEntropy,
    });
  });
});

describe('tying recurrent weights (RNN/LSTM/GRU and the cells read the shared parameter)', () => {
  const param = (m: Module, key: string) => Object.fromEntries(m.namedParameters())[key];

  it('two GRUs sharing weight_hh_l0_reverse: same outputs as a copy, gradient accumulated once, both keys saved', () => {
    const opts = { inputSize: 3, hiddenSize: 4, bidirectional: true };
    const a = new GRU(opts);
    const b = new GRU(opts);
    const key = 'weight_hh_l0_reverse';
    // the reference: b with a copy of a's weight, untied
    const copy = new GRU(opts);
    copy.loadStateDict({ ...b.stateDict(), [key]: a.stateDict()[key] });
    b.tieParameter(key, param(a, key));
    const x = tf.randomNormal([5, 2, 3], 0, 1, 'float32', 3);
    const [yb, hb] = b.forward(x);
    const [yc, hc] = copy.forward(x);
    expect(compare(yb, yc).abs).toBe(0);
    expect(compare(hb, hc).abs).toBe(0);
    // one parameter for the pair: its gradient is the sum of what each layer gives it
    class Pair extends Module {
      constructor() {
        super();
        this.registerModule('a', a);
        this.registerModule('b', b);
      }
      forward() {
        return null;
      }
    }
    const pair = new Pair();
    const shared = param(a, key);
    expect(pair.parameters().filter((p) => p === shared)).toHaveLength(1);
    expect(Object.keys(pair.stateDict())).toEqual(expect.arrayContaining([`a.${key}`, `b.${key}`]));
    const loss = (m: GRU) => () => tf.sum(tf.square(m.forward(x)[0])) as tf.Scalar;
    const both = tf.variableGrads(() => tf.add(loss(a)(), loss(b)()) as tf.Scalar, [shared]);
    const ga = tf.variableGrads(loss(a), [shared]);
    const copyW = param(copy, key);
    const gc = tf.variableGrads(loss(copy), [copyW]);
    expect(
      compare(both.grads[shared.name], tf.add(ga.grads[shared.name], gc.grads[copyW.name])).abs,
    ).toBeLessThanOrEqual(1e-6);
    tf.dispose([x, yb, hb, yc, hc, both.value, ga.value, gc.value]);
    tf.dispose([
      ...Object.values(both.grads),
      ...Object.values(ga.grads),
      ...Object.values(gc.grads),
    ]);
    pair.dispose();
    copy.dispose();
  });

  it('an LSTMCell tied to an LSTM layer reads its weights (one step of each agrees)', () => {
    const layer = new LSTM({ inputSize: 3, hiddenSize: 4 });
    const cell = new LSTMCell({ inputSize: 3, hiddenSize: 4 });
    for (const k of ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'])
      cell.tieParameter(k, param(layer, `${k}_l0`));
    const x = tf.randomNormal([1, 2, 3], 0, 1, 'float32', 5);
    tf.tidy(() => {
      const [, [h]] = layer.forward(x);
      const [hc] = cell.forward(tf.squeeze(x, [0]));
      expect(compare(hc, tf.squeeze(h, [0])).abs).toBe(0);
    });
    expectThrows(() => cell.tieParameter('weight_hr', param(layer, 'weight_ih_l0')), TypeError, [
      'LSTMCell.tieParameter(name)',
      '"weight_ih"',
    ]);
    x.dispose();
    cell.dispose();
    layer.dispose();
  });
});
