// Checks beyond one forward and backward: second derivatives (phase2/gradgrad_*) and a tied
// language model trained with SGD (tying/tied_lm_sgd).
import * as tf from '@tensorflow/tfjs-core';
import { compare } from '../fixtures.mjs';
import { errors, pick } from './errors.mjs';

/**
 * A gradgrad_* fixture on `module` (tooling/golden/phase2.py): loads its parameters, then with
 * nested tf.variableGrads computes penalty = sum of squared first gradients of
 * sum(y(module, x) * lossweight) over every parameter and x, and the penalty's gradients.
 * Returns the worst errors (forward: y absolute, penalty relative) plus `y` and `penalty` alone.
 */
export function gradGrad(module, y, t) {
  const e = errors();
  module.loadStateDict(pick(t, 'param.'));
  const x = tf.variable(t['input.x'], true, `gradgrad_x_${Math.random()}`);
  const named = [...module.namedParameters(), ['x', x]];
  const vars = named.map(([, v]) => v);
  let out;
  const { value, grads } = tf.variableGrads(() => {
    const first = tf.variableGrads(() => {
      out = tf.keep(y(module, x));
      return tf.sum(tf.mul(out, t['lossweight.y']));
    }, vars).grads;
    return tf.addN(Object.values(first).map((g) => tf.sum(tf.square(g))));
  }, vars);
  const penalty = tf.reshape(value, [1]);
  const err = {
    y: compare(out, t['output.y']).abs,
    penalty: compare(penalty, t['output.penalty']).rel,
  };
  e.forward('y', out, t['output.y']);
  e.forward('penalty', penalty, t['output.penalty'], 'rel');
  for (const [k, v] of named)
    e.grad(k, grads[v.name], k === 'x' ? t['gradgrad.input.x'] : t[`gradgrad.param.${k}`]);
  tf.dispose([out, value, penalty, x, ...Object.values(grads)]);
  return { ...e.result, ...err };
}

/** gradgrad_<kind>: the layer (two bidirectional layers) or cell of the config, its output y. */
export function gradGradFixture({ t, config }, api) {
  const cell = config.kind.endsWith('Cell');
  const m = new api[config.kind]({
    inputSize: config.inputSize,
    hiddenSize: config.hiddenSize,
    ...(cell ? {} : { numLayers: config.numLayers, bidirectional: config.bidirectional }),
  });
  try {
    return gradGrad(
      m,
      (mod, x) => {
        const out = mod.forward(x);
        return cell && !Array.isArray(out) ? out : out[0];
      },
      t,
    );
  } finally {
    m.dispose();
  }
}

/** tied_lm_sgd's model: Embedding(V, E) -> LSTM(E, E, batchFirst) -> Linear(E, V) tied to the embedding. */
export function tiedLM(api, vocab, dim) {
  class TiedLM extends api.Module {
    constructor() {
      super();
      this.embedding = this.registerModule('embedding', new api.Embedding(vocab, dim));
      this.rnn = this.registerModule(
        'rnn',
        new api.LSTM({ inputSize: dim, hiddenSize: dim, batchFirst: true }),
      );
      this.decoder = this.registerModule('decoder', new api.Linear(dim, vocab));
      this.decoder.weight = this.embedding.weight;
    }

    /** ids int32 [B, T] -> logits [B, T, V] */
    forward(ids) {
      return tf.tidy(() => this.decoder.forward(this.rnn.forward(this.embedding.forward(ids))[0]));
    }
  }
  return new TiedLM();
}

/**
 * tying/tied_lm_sgd: the tied model's state-dict keys and parameters as PyTorch's, then
 * `config.steps` trainStep calls with SGD(lr) on cross-entropy from PyTorch's initial weights:
 * every loss and every final weight (both tied keys).
 */
export function tiedLMTraining({ t, config }, api) {
  const e = errors();
  const lm = tiedLM(api, config.vocab, config.dim);
  const opt = tf.train.sgd(config.lr);
  const [B, T] = t['input.ids'].shape;
  const targets = tf.reshape(t['input.targets'], [B * T]);
  try {
    const sd = lm.stateDict();
    const keys = Object.keys(sd);
    tf.dispose(Object.values(sd));
    e.same('stateDict keys', keys, config.keys);
    e.same(
      'parameters',
      lm.namedParameters().map(([k]) => k),
      config.parameters,
    );
    lm.loadStateDict(pick(t, 'param.'));
    const losses = [];
    for (let s = 0; s < config.steps; s++) {
      const logits = () => tf.reshape(lm.forward(t['input.ids']), [B * T, config.vocab]);
      losses.push(api.trainStep(lm, () => api.crossEntropy(logits(), targets), opt).loss);
    }
    const want = t['output.losses'].dataSync();
    losses.forEach((l, i) => {
      e.value(`loss[${i}]`, l, want[i]);
    });
    const final = lm.stateDict();
    for (const k of config.keys) e.forward(k, final[k], t[`final.${k}`]);
    tf.dispose(Object.values(final));
  } finally {
    tf.dispose(targets);
    opt.dispose();
    lm.dispose();
  }
  return e.result;
}
