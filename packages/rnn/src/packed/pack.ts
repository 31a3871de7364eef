import { ShapeError } from '@rnnkit/ops';
import {
  assertBool,
  assertTensor,
  checkOptions,
  describeValue,
  fmtShape,
} from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';
import { checkSequences, padSequence, unpadSequence } from './pad.js';
import { invert, PackedSequence, paddedBatch } from './sequence.js';

/** Options of {@link packPaddedSequence}. */
export interface PackPaddedOptions {
  /** input is [B, T, *] instead of [T, B, *]. @default false */
  batchFirst?: boolean;
  /** Require lengths sorted in decreasing order (else they are sorted here). @default true */
  enforceSorted?: boolean;
}

/**
 * Packs a padded batch, as torch.nn.utils.rnn.pack_padded_sequence.
 * input: [T, B, *] (or [B, T, *] with batchFirst), lengths: B integers in [1, T] -> PackedSequence.
 * Differentiable: the gradient of `data` flows back to `input` (zero at padded steps).
 */
export function packPaddedSequence(
  input: tf.Tensor,
  lengths: number[] | tf.Tensor1D,
  opts: PackPaddedOptions = {},
): PackedSequence {
  const where = 'packPaddedSequence';
  checkOptions(opts, where, ['batchFirst', 'enforceSorted']);
  const batchFirst = assertBool(opts.batchFirst ?? false, `${where}({ batchFirst })`);
  const enforceSorted = assertBool(opts.enforceSorted ?? true, `${where}({ enforceSorted })`);
  assertTensor(input, `${where}(input)`);
  if (input.size === 0) {
    throw new ShapeError(
      `${where}(input): Cannot pack empty tensors; got shape ${fmtShape(input.shape)}`,
    );
  }
  const { T, B, lens } = paddedBatch(input, lengths, batchFirst, where, 'input', 1);
  let sorted: number[] | undefined;
  if (enforceSorted) {
    lens.forEach((n, i) => {
      if (i > 0 && n > lens[i - 1]) {
        throw new RangeError(
          `${where}(lengths): expected lengths sorted in decreasing order when enforceSorted is true, got ${n} after ${lens[i - 1]} at index ${i}; pass { enforceSorted: false } to sort them here`,
        );
      }
    });
  } else {
    // stable, as torch.sort(lengths, descending=True) on cpu
    sorted = lens.map((_, i) => i).sort((a, b) => lens[b] - lens[a] || a - b);
  }
  const order = sorted ?? lens.map((_, i) => i);
  const batchSizes = stepSizes(order.map((i) => lens[i]));
  const index: number[] = [];
  batchSizes.forEach((n, t) => {
    for (let k = 0; k < n; k++) index.push(batchFirst ? order[k] * T + t : t * B + order[k]);
  });
  const inner = input.shape.slice(2);
  const data = tf.tidy(() =>
    tf.gather(tf.reshape(input, [T * B, ...inner]), tf.tensor1d(index, 'int32')),
  );
  return new PackedSequence(data, batchSizes, sorted, sorted && invert(sorted));
}

/** Options of {@link padPackedSequence}. */
export interface PadPackedOptions {
  /** Return [B, T, *] instead of [T, B, *]. @default false */
  batchFirst?: boolean;
  /** Value at padded steps. @default 0 */
  paddingValue?: number;
  /** Pad to this many steps (at least the longest length). @default the longest length */
  totalLength?: number;
}

/**
 * Inverse of packPaddedSequence, as torch.nn.utils.rnn.pad_packed_sequence: the padded batch
 * ([T, B, *], or [B, T, *] with batchFirst) in the original order, and each sequence's length.
 */
export function padPackedSequence(
  seq: PackedSequence,
  opts: PadPackedOptions = {},
): [tf.Tensor, number[]] {
  const where = 'padPackedSequence';
  checkOptions(opts, where, ['batchFirst', 'paddingValue', 'totalLength']);
  if (!(seq instanceof PackedSequence)) {
    throw new TypeError(`${where}(seq): expected a PackedSequence, got ${describeValue(seq)}`);
  }
  assertTensor(seq.data, `${where}(seq.data)`);
  const batchFirst = assertBool(opts.batchFirst ?? false, `${where}({ batchFirst })`);
  const paddingValue = opts.paddingValue ?? 0;
  if (typeof paddingValue !== 'number') {
    throw new TypeError(
      `${where}({ paddingValue }): expected a number, got ${describeValue(paddingValue)}`,
    );
  }
  const maxLen = seq.batchSizes.length;
  const T = opts.totalLength ?? maxLen;
  if (!Number.isInteger(T) || T < maxLen) {
    throw new RangeError(
      `${where}({ totalLength }): expected an integer at least the length of the longest sequence (${maxLen}), got ${describeValue(opts.totalLength)}`,
    );
  }
  const B = seq.batchSize;
  const N = seq.data.shape[0];
  const rank = seq.unsortedIndices ?? seq.lengths.map((_, i) => i);
  const offsets: number[] = [0];
  for (const n of seq.batchSizes) offsets.push(offsets[offsets.length - 1] + n);
  const index = new Int32Array(T * B);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const k = rank[b];
      const row = t < maxLen && k < seq.batchSizes[t] ? offsets[t] + k : N;
      index[batchFirst ? b * T + t : t * B + b] = row;
    }
  }
  const inner = seq.data.shape.slice(1);
  const padded = tf.tidy(() => {
    const pad = tf.fill([1, ...inner], paddingValue, seq.data.dtype);
    const rows = tf.gather(tf.concat([seq.data, pad]), tf.tensor1d(index, 'int32'));
    return tf.reshape(rows, batchFirst ? [B, T, ...inner] : [T, B, ...inner]);
  });
  return [padded, seq.lengths];
}

/**
 * Packs a list of sequences, as torch.nn.utils.rnn.pack_sequence.
 * seqs: B tensors [L_i, *] (decreasing lengths unless enforceSorted is false) -> PackedSequence.
 */
export function packSequence(
  seqs: tf.Tensor[],
  opts: { enforceSorted?: boolean } = {},
): PackedSequence {
  checkOptions(opts, 'packSequence', ['enforceSorted']);
  const enforceSorted = assertBool(opts.enforceSorted ?? true, 'packSequence({ enforceSorted })');
  checkSequences(seqs, 'packSequence(seqs)');
  const padded = padSequence(seqs);
  try {
    return packPaddedSequence(
      padded,
      seqs.map((s) => s.shape[0]),
      { enforceSorted },
    );
  } finally {
    padded.dispose();
  }
}

/** Splits a PackedSequence into its sequences (original order), as torch.nn.utils.rnn.unpack_sequence. */
export function unpackSequence(seq: PackedSequence): tf.Tensor[] {
  if (!(seq instanceof PackedSequence)) {
    throw new TypeError(
      `unpackSequence(seq): expected a PackedSequence, got ${describeValue(seq)}`,
    );
  }
  const [padded, lengths] = padPackedSequence(seq, { batchFirst: true });
  try {
    return unpadSequence(padded, lengths, { batchFirst: true });
  } finally {
    padded.dispose();
  }
}

/** Non-increasing lengths -> number of sequences longer than t, for t < lengths[0]. */
function stepSizes(sortedLengths: number[]): number[] {
  const sizes: number[] = [];
  for (let t = 0; t < sortedLengths[0]; t++) sizes.push(sortedLengths.filter((n) => n > t).length);
  return sizes;
}

/**
 * padded [T, B, *] (or [B, T, *] with batchFirst), in the original batch order, packed with the
 * batch sizes and order of `like` (T = like's longest length): how RNN/LSTM/GRU.forward return
 * the output of a packed input. Differentiable.
 */
export function packLike(
  padded: tf.Tensor,
  like: PackedSequence,
  batchFirst: boolean,
): PackedSequence {
  const [T, B] = (batchFirst ? [padded.shape[1], padded.shape[0]] : padded.shape) as number[];
  const order = like.sortedIndices;
  const index: number[] = [];
  like.batchSizes.forEach((n, t) => {
    for (let k = 0; k < n; k++) {
      const b = order ? order[k] : k;
      index.push(batchFirst ? b * T + t : t * B + b);
    }
  });
  const data = tf.tidy(() =>
    tf.gather(tf.reshape(padded, [T * B, ...padded.shape.slice(2)]), tf.tensor1d(index, 'int32')),
  );
  return new PackedSequence(data, like.batchSizes, like.sortedIndices, like.unsortedIndices);
}
