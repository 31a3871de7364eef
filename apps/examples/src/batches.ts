// Batching: seeded epoch orders and padded id tensors. Browser-safe.
import * as tf from '@tensorflow/tfjs-core';

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

/** The batch order of every epoch (epochOrder for epochs 0 .. epochs-1). */
export function epochOrders(
  lengths: readonly number[],
  batchSize: number,
  seed: number,
  epochs: number,
): number[][] {
  return Array.from({ length: epochs }, (_, e) => epochOrder(lengths, batchSize, seed, e));
}

/** Id rows -> int32 [N, T] (T the longest row, at least 1), 0-padded. */
export function padIds(rows: readonly (readonly number[])[]): tf.Tensor2D {
  const T = Math.max(1, ...rows.map((r) => r.length));
  const flat = new Int32Array(rows.length * T);
  rows.forEach((r, i) => {
    flat.set(r, i * T);
  });
  return tf.tensor2d(flat, [rows.length, T], 'int32');
}

/** Pads id sequences with 0 to the longest one: int32 [B, T] and the lengths (at least 1). */
export function padBatch(seqs: readonly (readonly number[])[]): {
  ids: tf.Tensor2D;
  lengths: number[];
} {
  return { ids: padIds(seqs), lengths: seqs.map((s) => Math.max(1, s.length)) };
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
