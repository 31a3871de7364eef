// G2P batches, training and decoding. Browser-safe.
import { beamSearch, greedyDecode, type Seq2Seq } from '@rnnkit/heads';
import { crossEntropy } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { padIds } from '../batches.js';
import { type Fitted, fitBatches, type StepOptions } from '../train.js';

/** One training pair: a word's character ids and one of its pronunciations' phoneme ids. */
export interface G2pPair {
  src: number[];
  tgt: number[];
}

/** Most phonemes a decoder may emit for a word (CMUdict's longest has 32), eos included. */
export const MAX_PHONEMES = 40;

/**
 * A teacher-forcing batch: src int32 [B, S] (0-padded) with lengths; tgtIn [B, T+1] = bos + phonemes
 * (0-padded); tgtOut [B, T+1] = phonemes + eos (-100-padded, ignored by the loss).
 */
export function pairBatch(
  pairs: readonly G2pPair[],
  bos: number,
  eos: number,
): {
  src: tf.Tensor2D;
  lengths: number[];
  tgtIn: tf.Tensor2D;
  tgtOut: tf.Tensor2D;
  tokens: number;
} {
  const B = pairs.length;
  const S = Math.max(...pairs.map((p) => p.src.length));
  const T = Math.max(...pairs.map((p) => p.tgt.length)) + 1;
  const src = new Int32Array(B * S);
  const tin = new Int32Array(B * T);
  const tout = new Int32Array(B * T).fill(-100);
  let tokens = 0;
  pairs.forEach((p, b) => {
    src.set(p.src, b * S);
    tin.set([bos, ...p.tgt], b * T);
    tout.set([...p.tgt, eos], b * T);
    tokens += p.tgt.length + 1;
  });
  return {
    src: tf.tensor2d(src, [B, S], 'int32'),
    lengths: pairs.map((p) => p.src.length),
    tgtIn: tf.tensor2d(tin, [B, T], 'int32'),
    tgtOut: tf.tensor2d(tout, [B, T], 'int32'),
    tokens,
  };
}

export interface G2pFitOptions extends StepOptions {
  /** Epochs at `lr`; epoch e >= decayAfter (0-based) runs at lr * decay^(e - decayAfter + 1). */
  decayAfter: number;
  decay: number;
  bos: number;
  eos: number;
}

/** The learning rate of 0-based `epoch`: lr, then times `decay` each epoch after `decayAfter`. */
export function epochLr(r: { lr: number; decayAfter: number; decay: number }, epoch: number) {
  return r.lr * r.decay ** Math.max(0, epoch + 1 - r.decayAfter);
}

/**
 * Teacher forcing over the given batch orders (one per epoch, e.g. epochOrders of the source
 * lengths): the mean token loss per epoch.
 */
export function fitG2p(
  model: Seq2Seq,
  pairs: readonly G2pPair[],
  orders: readonly number[][],
  opts: G2pFitOptions,
): Fitted {
  return fitBatches(
    model,
    orders,
    (idx) => {
      const b = pairBatch(
        idx.map((i) => pairs[i]),
        opts.bos,
        opts.eos,
      );
      return {
        loss: () => crossEntropy(model.forward(b.src, b.lengths, b.tgtIn), b.tgtOut),
        weight: b.tokens,
        tensors: [b.src, b.tgtIn, b.tgtOut],
      };
    },
    { ...opts, lrAt: (epoch) => epochLr(opts, epoch) },
  );
}

/**
 * Pronunciations (phoneme ids, no bos/eos) of words given as character ids, decoded in batches of
 * `batchSize` words in the given order: greedy when beam is 1, else beam search (length penalty 1).
 */
export function decodeWords(
  model: Seq2Seq,
  words: readonly number[][],
  opts: { beam: number; bos: number; eos: number; batchSize?: number },
): { tokens: number[][]; scores: number[] } {
  model.eval();
  const size = opts.batchSize ?? 256;
  const tokens: number[][] = [];
  const scores: number[] = [];
  for (let s = 0; s < words.length; s += size) {
    const chunk = words.slice(s, s + size);
    const src = padIds(chunk);
    const state = model.encode(
      src,
      chunk.map((w) => w.length),
    );
    try {
      const d = { maxLength: MAX_PHONEMES, bos: opts.bos, eos: opts.eos };
      const r =
        opts.beam === 1
          ? greedyDecode(model, state, d)
          : beamSearch(model, state, { ...d, beamSize: opts.beam, lengthPenalty: 1 });
      tokens.push(...r.tokens);
      scores.push(...r.scores);
    } finally {
      tf.dispose([src, state.h, state.c, state.feed, ...Object.values(state.memory)]);
    }
  }
  return { tokens, scores };
}
