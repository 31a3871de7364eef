// The training loop and evaluation. Browser-safe.
import type { SequenceEncoder } from '@rnnkit/heads';
import { crossEntropy, type Module, trainStep } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { epochOrders, lmBatch, padBatch } from './batches.js';
import type { CharLanguageModel } from './models.js';

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

/** What every fit takes besides the data and the batch orders. */
export interface StepOptions {
  batchSize: number;
  lr: number;
  clipNorm: number;
  onBatch?: (info: BatchInfo) => void;
  /** After each epoch (e.g. validation); its return value is collected per epoch. */
  onEpoch?: (epoch: number, meanLoss: number) => unknown;
  /** The learning rate of each epoch. @default lr throughout */
  lrAt?: (epoch: number) => number;
}

export interface FitOptions extends StepOptions {
  epochs: number;
  seed: number;
}

/** Per-epoch mean losses, onEpoch's reports, and the training seconds (onEpoch excluded). */
export interface Fitted {
  epochLosses: number[];
  epochReports: unknown[];
  seconds: number;
}

export interface FitResult extends Fitted {
  orders: number[][];
}

/** One training batch: its loss, the weight of that mean in the epoch's mean, its tensors. */
export interface TrainBatch {
  loss: () => tf.Scalar;
  weight: number;
  /** Disposed after the step. */
  tensors: tf.Tensor[];
}

/** Adam as torch.optim.Adam (epsilon 1e-8, no weight decay). */
export function adam(lr: number): tf.Optimizer {
  return tf.train.adam(lr, 0.9, 0.999, 1e-8);
}

/** Sets an Adam optimizer's step size; its moments are kept (tfjs reads the field every step). */
function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

/**
 * Adam + clipped steps (trainStep) over `orders`, one per epoch, each cut into batches of
 * batchSize that `batch` turns into a loss.
 */
export function fitBatches(
  model: Module,
  orders: readonly number[][],
  batch: (idx: number[]) => TrainBatch,
  opts: StepOptions,
): Fitted {
  const optimizer = adam(opts.lr);
  const epochLosses: number[] = [];
  const epochReports: unknown[] = [];
  let seconds = 0;
  try {
    orders.forEach((order, epoch) => {
      const t0 = performance.now();
      if (opts.lrAt) setLearningRate(optimizer, opts.lrAt(epoch));
      const batches = Math.ceil(order.length / opts.batchSize);
      let sum = 0;
      let weight = 0;
      model.train();
      for (let b = 0; b < batches; b++) {
        const idx = order.slice(b * opts.batchSize, (b + 1) * opts.batchSize);
        const t = batch(idx);
        try {
          const r = trainStep(model, t.loss, optimizer, { clipNorm: opts.clipNorm });
          sum += r.loss * t.weight;
          weight += t.weight;
          opts.onBatch?.({ epoch, batch: b, batches, items: idx.length, loss: r.loss });
        } finally {
          tf.dispose(t.tensors);
        }
      }
      seconds += (performance.now() - t0) / 1000;
      epochLosses.push(sum / weight);
      epochReports.push(opts.onEpoch?.(epoch, sum / weight));
    });
  } finally {
    optimizer.dispose();
  }
  return { epochLosses, epochReports, seconds };
}

/** fitBatches over `opts.epochs` epochs in epochOrder (by the items' lengths, seeded by `opts.seed`). */
function fitEpochs(
  model: Module,
  lengths: number[],
  batch: (idx: number[]) => TrainBatch,
  opts: FitOptions,
): FitResult {
  const orders = epochOrders(lengths, opts.batchSize, opts.seed, opts.epochs);
  return { orders, ...fitBatches(model, orders, batch, opts) };
}

/** Trains a classifier with cross-entropy; `seconds` counts training only (not onEpoch). */
export function fitClassifier(
  model: SequenceEncoder,
  data: ClassifierData,
  opts: FitOptions,
): FitResult {
  return fitEpochs(
    model,
    data.ids.map((s) => s.length),
    (idx) => {
      const { ids, lengths } = padBatch(idx.map((i) => data.ids[i]));
      const y = tf.tensor1d(
        idx.map((i) => data.labels[i]),
        'int32',
      );
      return {
        loss: () => crossEntropy(model.forward(ids, { lengths }), y),
        weight: idx.length,
        tensors: [ids, y],
      };
    },
    opts,
  );
}

/** `fn` on consecutive chunks of `batchSize` rows, the model in eval mode; its results in order. */
function evalInChunks<R>(
  model: Module,
  rows: number[][],
  batchSize: number,
  fn: (chunk: number[][]) => R[],
): R[] {
  model.eval();
  const out: R[] = [];
  for (let s = 0; s < rows.length; s += batchSize) out.push(...fn(rows.slice(s, s + batchSize)));
  return out;
}

/** Class probabilities [N, C] for id sequences, in batches. */
export function classifierProbs(
  model: SequenceEncoder,
  ids: number[][],
  batchSize = 128,
): number[][] {
  return evalInChunks(model, ids, batchSize, (chunk) => {
    const batch = padBatch(chunk);
    const probs = tf.tidy(() => tf.softmax(model.forward(batch.ids, { lengths: batch.lengths })));
    const rows = probs.arraySync() as number[][];
    tf.dispose([probs, batch.ids]);
    return rows;
  });
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
  return fitEpochs(
    model,
    seqs.map((s) => s.length),
    (idx) => {
      const { inputs, targets, count } = lmBatch(idx.map((i) => seqs[i]));
      const loss = () =>
        tf.tidy(() => {
          const [logits, state] = model.forward(inputs);
          tf.dispose(state);
          return crossEntropy(logits, targets);
        });
      return { loss, weight: count, tensors: [inputs, targets] };
    },
    opts,
  );
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
  return evalInChunks(model, seqs, batchSize, (chunk) => {
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
    tf.dispose([picked, inputs, targets]);
    return chunk.map((seq, b) => rows[b].slice(0, seq.length - 1));
  });
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
