// The task models, built from rnnkit's public API only. Browser-safe.

import { SequenceEncoder } from '@rnnkit/heads';
import { Embedding, Linear, Module } from '@rnnkit/ops';
import { CELL_KIND_NAMES, type CellKind, createLayer, type RecurrentLayer } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';

export type Cell = CellKind;
export const CELLS: readonly Cell[] = CELL_KIND_NAMES;

export interface ClassifierConfig {
  kind: 'classifier';
  cell: Cell;
  vocabSize: number;
  embeddingDim: number;
  hiddenSize: number;
  numClasses: number;
}

export interface LanguageModelConfig {
  kind: 'lm';
  cell: Cell;
  vocabSize: number;
  embeddingDim: number;
  hiddenSize: number;
}

export type ModelConfig = ClassifierConfig | LanguageModelConfig;

/**
 * Embedding(paddingIdx 0) -> bidirectional cell (batch first, `lengths` = pack_padded_sequence)
 * -> masked mean pooling -> Linear(2H, numClasses). Keys: embedding.weight, rnn.*_l0(_reverse),
 * proj.weight, proj.bias (the PyTorch referee's module has the same).
 */
export function createClassifier(c: ClassifierConfig): SequenceEncoder {
  return new SequenceEncoder({
    vocabSize: c.vocabSize,
    embeddingDim: c.embeddingDim,
    paddingIdx: 0,
    cell: c.cell,
    hiddenSize: c.hiddenSize,
    bidirectional: true,
    pooling: 'mean',
    outputSize: c.numClasses,
  });
}

/** A recurrent state: h, or [h, c] for an LSTM. */
export type LMState = tf.Tensor | [tf.Tensor, tf.Tensor];

/**
 * A character language model: Embedding(paddingIdx 0) -> one-layer cell (batch first) ->
 * Linear(H, vocab) at every step. Keys: embedding.weight, rnn.*_l0, proj.weight, proj.bias.
 */
export class CharLanguageModel extends Module {
  readonly config: LanguageModelConfig;
  readonly embedding: Embedding;
  readonly rnn: RecurrentLayer;
  readonly proj: Linear;

  constructor(c: LanguageModelConfig) {
    super();
    this.config = c;
    this.embedding = this.registerModule(
      'embedding',
      new Embedding(c.vocabSize, c.embeddingDim, { paddingIdx: 0 }),
    );
    this.rnn = this.registerModule(
      'rnn',
      createLayer(c.cell, {
        inputSize: c.embeddingDim,
        hiddenSize: c.hiddenSize,
        batchFirst: true,
      }),
    );
    this.proj = this.registerModule('proj', new Linear(c.hiddenSize, c.vocabSize));
  }

  /** ids int32 [B, T] (+ state) -> [logits [B, T, vocab], new state]; the caller owns both. */
  forward(ids: tf.Tensor, state?: LMState): [tf.Tensor, LMState] {
    return tf.tidy(() => {
      const x = this.embedding.forward(ids);
      const [out, next] = this.rnn.forward(x, state);
      return [this.proj.forward(out), next] as [tf.Tensor, LMState];
    }) as [tf.Tensor, LMState];
  }
}

export function createModel(c: ModelConfig): SequenceEncoder | CharLanguageModel {
  return c.kind === 'classifier' ? createClassifier(c) : new CharLanguageModel(c);
}
