// Batching, the training loop and evaluation. Browser-safe.
import type { SequenceEncoder } from '@rnnkit/heads';
import { crossEntropy, trainStep } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import type { CharLanguageModel } from './models.js';

/** A small seeded generator (mulberry32) for shuffling and sampling: the same stream everywhere. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(xs: T[], rand: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/**
 * The order of the training items in one epoch, cut into consecutive batches of `batchSize`
 * (the last one may be smaller): a seeded shuffle, then items of similar length are grouped into
 * the same batch (sorted within windows of 50 batches) so little time goes on padding, then the
 * full batches are shuffled and the partial one, if any, goes last. The PyTorch referee receives
 * these orders as they are.
 */
export function epochOrder(
  lengths: readonly number[],
  batchSize: number,
  seed: number,
  epoch: number,
): number[] {
  const rand = mulberry32((seed * 1000003 + epoch * 7919) >>> 0);
  const perm = shuffle(
    lengths.map((_, i) => i),
    rand,
  );
  const window = batchSize * 50;
  const sorted: number[] = [];
  for (let s = 0; s < perm.length; s += window) {
    const chunk = perm.slice(s, s + window);
    chunk.sort((a, b) => lengths[b] - lengths[a] || a - b);
    sorted.push(...chunk);
  }
  const batches: number[][] = [];
  for (let s = 0; s < sorted.length; s += batchSize) batches.push(sorted.slice(s, s + batchSize));
  const partial =
    batches.length && batches[batches.length - 1].length < batchSize ? batches.pop()! : null;
  shuffle(batches, rand);
  if (partial) batches.push(partial);
  return batches.flat();
}

/** Pads id sequences with 0 to the longest one: int32 [B, T] and the lengths. */
export function padBatch(seqs: readonly (readonly number[])[]): {
  ids: tf.Tensor2D;
  lengths: number[];
} {
  const lengths = seqs.map((s) => Math.max(1, s.length));
  const T = Math.max(...lengths);
  const flat = new Int32Array(seqs.length * T);
  seqs.forEach((s, b) => {
    flat.set(s, b * T);
  });
  return { ids: tf.tensor2d(flat, [seqs.length, T], 'int32'), lengths };
}

/** Language-model batch: inputs seq[:-1] padded with 0, targets seq[1:] padded with -100 (ignored). */
export function lmBatch(seqs: readonly (readonly number[])[]): {
  inputs: tf.Tensor2D;
  targets: tf.Tensor2D;
  count: number;
} {
  const T = Math.max(...seqs.map((s) => s.length - 1));
  const x = new Int32Array(seqs.length * T);
  const y = new Int32Array(seqs.length * T).fill(-100);
  let count = 0;
  seqs.forEach((s, b) => {
    x.set(s.slice(0, -1), b * T);
    y.set(s.slice(1), b * T);
    count += s.length - 1;
  });
  return {
    inputs: tf.tensor2d(x, [seqs.length, T], 'int32'),
    targets: tf.tensor2d(y, [seqs.length, T], 'int32'),
    count,
  };
}

export interface ClassifierData {
  ids: number[][];
  labels: number[];
}

export interface BatchInfo {
  epoch: number;
  batch: number;
  batches: number;
  items: number;
  loss: number;
}

export interface FitOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  clipNorm: number;
  seed: number;
  onBatch?: (info: BatchInfo) => void;
  /** After each epoch (e.g. validation); its return value is collected per epoch. */
  onEpoch?: (epoch: number, meanLoss: number) => unknown;
}

export interface FitResult {
  orders: number[][];
  epochLosses: number[];
  epochReports: unknown[];
  seconds: number;
}

/** Adam as torch.optim.Adam (epsilon 1e-8, no weight decay). */
export function adam(lr: number): tf.Optimizer {
  return tf.train.adam(lr, 0.9, 0.999, 1e-8);
}

function fit(
  n: number,
  lengths: number[],
  step: (idx: number[]) => { loss: number; weight: number },
  opts: FitOptions,
): FitResult {
  const orders: number[][] = [];
  const epochLosses: number[] = [];
  const epochReports: unknown[] = [];
  let seconds = 0;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    const t0 = performance.now();
    const order = epochOrder(lengths, opts.batchSize, opts.seed, epoch);
    orders.push(order);
    const batches = Math.ceil(n / opts.batchSize);
    let sum = 0;
    let weight = 0;
    for (let b = 0; b < batches; b++) {
      const idx = order.slice(b * opts.batchSize, (b + 1) * opts.batchSize);
      const r = step(idx);
      sum += r.loss * r.weight;
      weight += r.weight;
      opts.onBatch?.({ epoch, batch: b, batches, items: idx.length, loss: r.loss });
    }
    seconds += (performance.now() - t0) / 1000;
    epochLosses.push(sum / weight);
    epochReports.push(opts.onEpoch?.(epoch, sum / weight));
  }
  return { orders, epochLosses, epochReports, seconds };
}

/** Trains a classifier with cross-entropy; `seconds` counts training only (not onEpoch). */
export function fitClassifier(
  model: SequenceEncoder,
  data: ClassifierData,
  opts: FitOptions,
): FitResult {
  const optimizer = adam(opts.lr);
  try {
    return fit(
      data.ids.length,
      data.ids.map((s) => s.length),
      (idx) => {
        const { ids, lengths } = padBatch(idx.map((i) => data.ids[i]));
        const y = tf.tensor1d(
          idx.map((i) => data.labels[i]),
          'int32',
        );
        try {
          model.train();
          const r = trainStep(
            model,
            () => crossEntropy(model.forward(ids, { lengths }), y),
            optimizer,
            {
              clipNorm: opts.clipNorm,
            },
          );
          return { loss: r.loss, weight: idx.length };
        } finally {
          tf.dispose([ids, y]);
        }
      },
      opts,
    );
  } finally {
    optimizer.dispose();
  }
}

/** Class probabilities [N, C] for id sequences, in batches. */
export function classifierProbs(
  model: SequenceEncoder,
  ids: number[][],
  batchSize = 128,
): number[][] {
  model.eval();
  const out: number[][] = [];
  for (let s = 0; s < ids.length; s += batchSize) {
    const batch = padBatch(ids.slice(s, s + batchSize));
    const probs = tf.tidy(() => tf.softmax(model.forward(batch.ids, { lengths: batch.lengths })));
    out.push(...(probs.arraySync() as number[][]));
    tf.dispose([probs, batch.ids]);
  }
  return out;
}

export interface ClassifierMetrics {
  accuracy: number;
  /** For class 1 (spam, male). */
  precision: number;
  recall: number;
  f1: number;
  /** confusion[actual][predicted] */
  confusion: number[][];
}

export function classifierMetrics(
  labels: readonly number[],
  preds: readonly number[],
): ClassifierMetrics {
  const confusion = [
    [0, 0],
    [0, 0],
  ];
  labels.forEach((y, i) => {
    confusion[y][preds[i]]++;
  });
  const tp = confusion[1][1];
  const fp = confusion[0][1];
  const fn = confusion[1][0];
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  return {
    accuracy: labels.length ? (confusion[0][0] + tp) / labels.length : 0,
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    confusion,
  };
}

/** Trains a language model with teacher forcing (mean cross-entropy over real next tokens). */
export function fitLanguageModel(
  model: CharLanguageModel,
  seqs: number[][],
  opts: FitOptions,
): FitResult {
  const optimizer = adam(opts.lr);
  try {
    return fit(
      seqs.length,
      seqs.map((s) => s.length),
      (idx) => {
        const { inputs, targets, count } = lmBatch(idx.map((i) => seqs[i]));
        try {
          model.train();
          const r = trainStep(
            model,
            () =>
              tf.tidy(() => {
                const [logits, state] = model.forward(inputs);
                tf.dispose(state);
                return crossEntropy(logits, targets);
              }),
            optimizer,
            { clipNorm: opts.clipNorm },
          );
          return { loss: r.loss, weight: count };
        } finally {
          tf.dispose([inputs, targets]);
        }
      },
      opts,
    );
  } finally {
    optimizer.dispose();
  }
}

/**
 * Natural-log probability of every real next token: per sequence, an array of length len - 1.
 * Bits per character = -sum / (count * ln 2) over all of them (end token included).
 */
export function lmLogProbs(
  model: CharLanguageModel,
  seqs: number[][],
  batchSize = 256,
): number[][] {
  model.eval();
  const out: number[][] = [];
  for (let s = 0; s < seqs.length; s += batchSize) {
    const chunk = seqs.slice(s, s + batchSize);
    const { inputs, targets } = lmBatch(chunk);
    const picked = tf.tidy(() => {
      const [logits, state] = model.forward(inputs);
      tf.dispose(state);
      const logp = tf.logSoftmax(logits);
      const V = logp.shape[2]!;
      const safe = tf.maximum(targets, tf.scalar(0, 'int32'));
      return tf.sum(tf.mul(logp, tf.oneHot(safe, V)), 2);
    });
    const rows = picked.arraySync() as number[][];
    chunk.forEach((seq, b) => {
      out.push(rows[b].slice(0, seq.length - 1));
    });
    tf.dispose([picked, inputs, targets]);
  }
  return out;
}

export function bitsPerChar(logProbs: readonly (readonly number[])[]): number {
  let sum = 0;
  let n = 0;
  for (const row of logProbs) {
    for (const v of row) sum += v;
    n += row.length;
  }
  return -sum / n / Math.LN2;
}

/**
 * The unigram baseline: next-token frequencies of the training split (every token after <s>,
 * end token included), add-one smoothed over the `symbols` that can follow, scored on `test`.
 */
export function unigramBitsPerChar(train: number[][], test: number[][], symbols: number[]): number {
  const counts = new Map<number, number>(symbols.map((s) => [s, 1]));
  let total = symbols.length;
  for (const seq of train) {
    for (const t of seq.slice(1)) {
      counts.set(t, (counts.get(t) ?? 1) + 1);
      total++;
    }
  }
  let sum = 0;
  let n = 0;
  for (const seq of test) {
    for (const t of seq.slice(1)) {
      sum += Math.log2((counts.get(t) ?? 1) / total);
      n++;
    }
  }
  return -sum / n;
}
