// The task models, built from rnnkit's public API only. Browser-safe.

import { SequenceEncoder, SequenceTagger } from '@rnnkit/heads';
import { type Embedding, type Linear, Module } from '@rnnkit/ops';
import { CELL_KIND_NAMES, type CellKind, type RecurrentLayer } from '@rnnkit/rnn';
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
 * Linear(H, vocab) at every step. Keys: embedding.weight, rnn.*_l0, proj.weight, proj.bias. Its
 * layers are those of a SequenceTagger (`tagger`, a public class: saveModel writes it, loadModel
 * rebuilds it); this class adds the step-by-step forward with a carried state.
 */
export class CharLanguageModel extends Module {
  readonly tagger: SequenceTagger;
  readonly embedding: Embedding;
  readonly rnn: RecurrentLayer;
  readonly proj: Linear;

  constructor(from: LanguageModelConfig | SequenceTagger) {
    super();
    this.tagger =
      from instanceof SequenceTagger
        ? from
        : new SequenceTagger({
            vocabSize: from.vocabSize,
            embeddingDim: from.embeddingDim,
            paddingIdx: 0,
            cell: from.cell,
            hiddenSize: from.hiddenSize,
            numClasses: from.vocabSize,
          });
    const { embedding, rnn, proj } = this.tagger;
    if (!embedding || !proj || rnn.bidirectional || rnn.numLayers !== 1) {
      throw new TypeError(
        'CharLanguageModel: expected a one-layer, one-direction SequenceTagger on token ids',
      );
    }
    this.embedding = this.registerModule('embedding', embedding);
    this.rnn = this.registerModule('rnn', rnn);
    this.proj = this.registerModule('proj', proj);
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
