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
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
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
