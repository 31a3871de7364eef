import { ShapeError } from '@rnnkit/ops';
import {
  assertBool,
  assertTensor,
  checkOptions,
  describeValue,
  fmtShape,
} from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Sequences of different lengths packed time step by time step, as torch.nn.utils.rnn.PackedSequence.
 * `data` [N, *] holds, for t = 0, 1, ..., step t of the batchSizes[t] longest sequences (in sorted
 * order); N = sum(batchSizes). `sortedIndices[i]` is the original batch index of sorted position i and
 * `unsortedIndices` its inverse (both absent when the batch was already sorted by decreasing length).
 * The PackedSequence owns `data`: `dispose()` frees it.
 */
export class PackedSequence {
  readonly data: tf.Tensor;
  readonly batchSizes: number[];
  readonly sortedIndices?: number[];
  readonly unsortedIndices?: number[];

  constructor(
    data: tf.Tensor,
    batchSizes: number[],
    sortedIndices?: number[],
    unsortedIndices?: number[],
  ) {
    assertTensor(data, 'PackedSequence(data)');
    if (data.rank < 1)
      throw new ShapeError('PackedSequence(data): expected rank >= 1, got a scalar');
    const sizes = intList(batchSizes, 'PackedSequence(batchSizes)', 1);
    sizes.forEach((n, t) => {
      if (t > 0 && n > sizes[t - 1]) {
        throw new RangeError(
          `PackedSequence(batchSizes): expected non-increasing sizes, got ${n} after ${sizes[t - 1]} at index ${t}`,
        );
      }
    });
    const total = sizes.reduce((a, b) => a + b, 0);
    if (data.shape[0] !== total) {
      throw new ShapeError(
        `PackedSequence(data): expected ${total} rows (the sum of batchSizes), got shape ${fmtShape(data.shape)}`,
      );
    }
    const B = sizes[0] ?? 0;
    const sorted =
      sortedIndices === undefined ? undefined : permutation(sortedIndices, B, 'sortedIndices');
    let unsorted =
      unsortedIndices === undefined
        ? undefined
        : permutation(unsortedIndices, B, 'unsortedIndices');
    if (sorted && !unsorted) unsorted = invert(sorted);
    if (sorted && unsorted && sorted.some((s, i) => unsorted[s] !== i)) {
      throw new RangeError(
        'PackedSequence(unsortedIndices): expected the inverse permutation of sortedIndices',
      );
    }
    if (unsorted && !sorted) {
      throw new TypeError('PackedSequence(sortedIndices): expected with unsortedIndices, got none');
    }
    this.data = data;
    this.batchSizes = sizes;
    if (sorted) {
      this.sortedIndices = sorted;
      this.unsortedIndices = unsorted;
    }
  }

  /** Number of sequences. */
  get batchSize(): number {
    return this.batchSizes[0] ?? 0;
  }

  /** Length of each sequence, in the original batch order. */
  get lengths(): number[] {
    const sortedLengths = new Array<number>(this.batchSize).fill(0);
    for (const n of this.batchSizes) for (let b = 0; b < n; b++) sortedLengths[b]++;
    const order = this.unsortedIndices;
    return order ? order.map((i) => sortedLengths[i]) : sortedLengths;
  }

  dispose(): void {
    this.data.dispose();
  }
}

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
  if (input.rank < 2) {
    throw new ShapeError(
      `${where}(input): expected rank >= 2 (${batchFirst ? '[B, T, *]' : '[T, B, *]'}), got shape ${fmtShape(input.shape)}`,
    );
  }
  const T = input.shape[batchFirst ? 1 : 0] as number;
  const B = input.shape[batchFirst ? 0 : 1] as number;
  const lens = intList(lengths, `${where}(lengths)`, 1, T);
  if (lens.length !== B) {
    throw new ShapeError(
      `${where}(lengths): expected ${B} lengths (the batch size of input ${fmtShape(input.shape)}), got ${lens.length}`,
    );
  }
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

export interface PadSequenceOptions {
  /** Return [B, T, *] instead of [T, B, *]. @default false */
  batchFirst?: boolean;
  /** @default 0 */
  paddingValue?: number;
  /** Pad after ('right') or before ('left') each sequence. @default 'right' */
  paddingSide?: 'right' | 'left';
}

/**
 * Stacks sequences of different lengths, padded to the longest, as torch.nn.utils.rnn.pad_sequence.
 * seqs: B tensors [L_i, *] (or one tensor [B, L, *]) -> [T, B, *] (or [B, T, *] with batchFirst).
 */
export function padSequence(
  seqs: tf.Tensor[] | tf.Tensor,
  opts: PadSequenceOptions = {},
): tf.Tensor {
  const where = 'padSequence';
  checkOptions(opts, where, ['batchFirst', 'paddingValue', 'paddingSide']);
  const batchFirst = assertBool(opts.batchFirst ?? false, `${where}({ batchFirst })`);
  const paddingValue = opts.paddingValue ?? 0;
  if (typeof paddingValue !== 'number') {
    throw new TypeError(
      `${where}({ paddingValue }): expected a number, got ${describeValue(paddingValue)}`,
    );
  }
  const side = opts.paddingSide ?? 'right';
  if (side !== 'right' && side !== 'left') {
    throw new TypeError(
      `${where}({ paddingSide }): expected 'right' or 'left', got ${describeValue(side)}`,
    );
  }
  if (seqs instanceof tf.Tensor) {
    assertTensor(seqs, `${where}(seqs)`);
    if (seqs.rank < 1) throw new ShapeError(`${where}(seqs): expected rank >= 1, got a scalar`);
    return tf.tidy(() => (batchFirst ? tf.clone(seqs) : swap01(seqs)));
  }
  checkSequences(seqs, `${where}(seqs)`);
  const T = Math.max(...seqs.map((s) => s.shape[0]));
  return tf.tidy(() => {
    const padded = seqs.map((s) => {
      const extra = T - s.shape[0];
      const before = side === 'left' ? extra : 0;
      return tf.pad(
        s,
        s.shape.map((_, d) => (d === 0 ? [before, extra - before] : [0, 0])) as Array<
          [number, number]
        >,
        paddingValue,
      );
    });
    return tf.stack(padded, batchFirst ? 0 : 1);
  });
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

/**
 * Splits a padded batch into its sequences, as torch.nn.utils.rnn.unpad_sequence.
 * padded: [T, B, *] (or [B, T, *] with batchFirst), lengths: B integers in [0, T] -> B tensors [L_i, *].
 */
export function unpadSequence(
  padded: tf.Tensor,
  lengths: number[] | tf.Tensor1D,
  opts: { batchFirst?: boolean } = {},
): tf.Tensor[] {
  const where = 'unpadSequence';
  checkOptions(opts, where, ['batchFirst']);
  const batchFirst = assertBool(opts.batchFirst ?? false, `${where}({ batchFirst })`);
  assertTensor(padded, `${where}(padded)`);
  if (padded.rank < 2) {
    throw new ShapeError(
      `${where}(padded): expected rank >= 2 (${batchFirst ? '[B, T, *]' : '[T, B, *]'}), got shape ${fmtShape(padded.shape)}`,
    );
  }
  const T = padded.shape[batchFirst ? 1 : 0] as number;
  const B = padded.shape[batchFirst ? 0 : 1] as number;
  const lens = intList(lengths, `${where}(lengths)`, 0, T);
  if (lens.length !== B) {
    throw new ShapeError(
      `${where}(lengths): expected ${B} lengths (the batch size of padded ${fmtShape(padded.shape)}), got ${lens.length}`,
    );
  }
  const inner = padded.shape.slice(2);
  return lens.map((n, b) =>
    tf.tidy(() => {
      const begin = batchFirst ? [b, 0] : [0, b];
      const size = batchFirst ? [1, n] : [n, 1];
      const part = tf.slice(padded, [...begin, ...inner.map(() => 0)], [...size, ...inner]);
      return tf.reshape(part, [n, ...inner]);
    }),
  );
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

function invert(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return inv;
}

function swap01(x: tf.Tensor): tf.Tensor {
  if (x.rank < 2) return tf.clone(x);
  return tf.transpose(x, [1, 0, ...x.shape.slice(2).map((_, i) => i + 2)]);
}

/** Integers in [min, max] from an array or a live 1-D tensor. */
function intList(value: unknown, arg: string, min: number, max = Infinity): number[] {
  let list: unknown[];
  if (value instanceof tf.Tensor) {
    assertTensor(value, arg);
    if (value.rank !== 1) {
      throw new ShapeError(`${arg}: expected a 1-D tensor, got shape ${fmtShape(value.shape)}`);
    }
    list = Array.from(value.dataSync());
  } else if (Array.isArray(value)) {
    list = value;
  } else {
    throw new TypeError(`${arg}: expected an array of integers, got ${describeValue(value)}`);
  }
  list.forEach((n, i) => {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      const range = max === Infinity ? `integers >= ${min}` : `integers in [${min}, ${max}]`;
      const why = max === Infinity ? '' : ' (the sequence length)';
      throw new RangeError(
        `${arg}: expected ${range}${why}, got ${describeValue(n)} at index ${i}`,
      );
    }
  });
  return list as number[];
}

function permutation(value: unknown, B: number, name: string): number[] {
  const list = intList(value, `PackedSequence(${name})`, 0, B - 1);
  if (list.length !== B || new Set(list).size !== B) {
    throw new RangeError(
      `PackedSequence(${name}): expected a permutation of 0..${B - 1} (batchSizes[0] = ${B}), got [${list.join(',')}]`,
    );
  }
  return list;
}

/** Non-empty list of live tensors of rank >= 1 with the same trailing dims and dtype. */
function checkSequences(seqs: unknown, arg: string): asserts seqs is tf.Tensor[] {
  if (!Array.isArray(seqs)) {
    throw new TypeError(`${arg}: expected an array of tensors, got ${describeValue(seqs)}`);
  }
  if (seqs.length === 0) throw new RangeError(`${arg}: expected at least one sequence, got none`);
  seqs.forEach((s, i) => {
    assertTensor(s, `${arg}[${i}]`);
    const first = seqs[0] as tf.Tensor;
    if (s.rank < 1) throw new ShapeError(`${arg}[${i}]: expected rank >= 1 ([L, *]), got a scalar`);
    if (!tf.util.arraysEqual(s.shape.slice(1), first.shape.slice(1)) || s.dtype !== first.dtype) {
      throw new ShapeError(
        `${arg}[${i}]: expected trailing dims ${fmtShape(first.shape.slice(1))} and dtype ${first.dtype} (as seqs[0]), got a ${s.dtype} tensor of shape ${fmtShape(s.shape)}`,
      );
    }
  });
}
