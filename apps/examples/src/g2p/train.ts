// G2P batches, training and decoding. Browser-safe.
import { beamSearch, greedyDecode, type Seq2Seq } from '@rnnkit/heads';
import { crossEntropy, trainStep } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { adam, type BatchInfo, epochOrder } from '../train.js';

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

/** The batch order of every epoch: epochOrder over the source lengths, as the other tasks. */
export function g2pOrders(
  pairs: readonly G2pPair[],
  batchSize: number,
  seed: number,
  epochs: number,
): number[][] {
  const lengths = pairs.map((p) => p.src.length);
  return Array.from({ length: epochs }, (_, e) => epochOrder(lengths, batchSize, seed, e));
}

export interface G2pFitOptions {
  /** One order of the pairs per epoch (g2pOrders), cut into batches of batchSize. */
  orders: number[][];
  batchSize: number;
  lr: number;
  /** Epochs at `lr`; epoch e >= decayAfter (0-based) runs at lr * decay^(e - decayAfter + 1). */
  decayAfter: number;
  decay: number;
  clipNorm: number;
  bos: number;
  eos: number;
  onBatch?: (info: BatchInfo) => void;
  /** After each epoch; its return value is collected. */
  onEpoch?: (epoch: number, meanLoss: number) => unknown;
}

/** The learning rate of 0-based `epoch`: lr, then times `decay` each epoch after `decayAfter`. */
export function epochLr(r: { lr: number; decayAfter: number; decay: number }, epoch: number) {
  return r.lr * r.decay ** Math.max(0, epoch + 1 - r.decayAfter);
}

/** Sets an Adam optimizer's step size; its moments are kept (tfjs reads the field every step). */
function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

/**
 * Adam + clipped teacher forcing over the given batch orders. Returns per-epoch mean token losses
 * and the training seconds (onEpoch excluded).
 */
export function fitG2p(
  model: Seq2Seq,
  pairs: readonly G2pPair[],
  opts: G2pFitOptions,
): { epochLosses: number[]; epochReports: unknown[]; seconds: number } {
  const optimizer = adam(opts.lr);
  const epochLosses: number[] = [];
  const epochReports: unknown[] = [];
  let seconds = 0;
  try {
    for (let epoch = 0; epoch < opts.orders.length; epoch++) {
      const t0 = performance.now();
      setLearningRate(optimizer, epochLr(opts, epoch));
      const order = opts.orders[epoch];
      const batches = Math.ceil(pairs.length / opts.batchSize);
      let sum = 0;
      let weight = 0;
      model.train();
      for (let b = 0; b < batches; b++) {
        const idx = order.slice(b * opts.batchSize, (b + 1) * opts.batchSize);
        const batch = pairBatch(
          idx.map((i) => pairs[i]),
          opts.bos,
          opts.eos,
        );
        try {
          const r = trainStep(
            model,
            () => crossEntropy(model.forward(batch.src, batch.lengths, batch.tgtIn), batch.tgtOut),
            optimizer,
            { clipNorm: opts.clipNorm },
          );
          sum += r.loss * batch.tokens;
          weight += batch.tokens;
          opts.onBatch?.({ epoch, batch: b, batches, items: idx.length, loss: r.loss });
        } finally {
          tf.dispose([batch.src, batch.tgtIn, batch.tgtOut]);
        }
      }
      seconds += (performance.now() - t0) / 1000;
      epochLosses.push(sum / weight);
      epochReports.push(opts.onEpoch?.(epoch, sum / weight));
    }
  } finally {
    optimizer.dispose();
  }
  return { epochLosses, epochReports, seconds };
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
    const S = Math.max(...chunk.map((w) => w.length));
    const flat = new Int32Array(chunk.length * S);
    chunk.forEach((w, i) => {
      flat.set(w, i * S);
    });
    const src = tf.tensor2d(flat, [chunk.length, S], 'int32');
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
