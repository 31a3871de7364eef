import { LSTMCell } from '@rnnkit/cell';
import { compare, readFixture } from '@rnnkit/golden';
import {
  crossEntropy,
  Embedding,
  Linear,
  loadSafetensors,
  Module,
  safetensorsMetadata,
  trainStep,
} from '@rnnkit/ops';
import { expectThrows } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GRU } from './gru.js';
import { LSTM } from './lstm.js';

/** The fixture's TiedLM: Embedding(V, E) -> LSTM(E, E, batchFirst) -> Linear(E, V) tied to the embedding. */
class TiedLM extends Module {
  readonly embedding: Embedding;
  readonly rnn: LSTM;
  readonly decoder: Linear;

  constructor(vocab: number, dim: number) {
    super();
    this.embedding = this.registerModule('embedding', new Embedding(vocab, dim));
    this.rnn = this.registerModule(
      'rnn',
      new LSTM({ inputSize: dim, hiddenSize: dim, batchFirst: true }),
    );
    this.decoder = this.registerModule('decoder', new Linear(dim, vocab));
    this.decoder.weight = this.embedding.weight;
  }

  /** ids int32 [B, T] -> logits [B, T, V] */
  forward(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [out, [h, c]] = this.rnn.forward(this.embedding.forward(ids));
      tf.dispose([h, c]);
      return this.decoder.forward(out);
    });
  }
}

describe('weight tying: a tied language model trained with SGD, as PyTorch', () => {
  it('tied_lm_sgd: same state-dict keys, losses and final weights (within 1e-6) after 5 steps', () => {
    const bytes = readFixture('tying', 'tied_lm_sgd');
    const t = loadSafetensors(bytes);
    const config = JSON.parse(safetensorsMetadata(bytes).config);
    const lm = new TiedLM(config.vocab, config.dim);
    const sd = lm.stateDict();
    expect(Object.keys(sd)).toEqual(config.keys);
    expect(lm.namedParameters().map(([k]) => k)).toEqual(config.parameters);
    tf.dispose(Object.values(sd));
    const initial = Object.fromEntries(config.keys.map((k: string) => [k, t[`param.${k}`]]));
    lm.loadStateDict(initial);
    const opt = tf.train.sgd(config.lr);
    const [B, T] = t['input.ids'].shape as [number, number];
    const targets = tf.reshape(t['input.targets'], [B * T]);
    const losses: number[] = [];
    const before = tf.memory().numTensors;
    for (let s = 0; s < config.steps; s++) {
      const { loss } = trainStep(
        lm,
        () => crossEntropy(tf.reshape(lm.forward(t['input.ids']), [B * T, config.vocab]), targets),
        opt,
      );
      losses.push(loss);
    }
    expect(tf.memory().numTensors).toBe(before);
    const want = Array.from(t['output.losses'].dataSync());
    losses.forEach((l, i) => {
      expect(Math.abs(l - want[i])).toBeLessThanOrEqual(1e-6);
    });
    const final = lm.stateDict();
    for (const k of config.keys) {
      expect(compare(final[k], t[`final.${k}`]).abs, k).toBeLessThanOrEqual(1e-6);
    }
    tf.dispose([targets, ...Object.values(final), ...Object.values(t)]);
    opt.dispose();
    lm.dispose();
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
