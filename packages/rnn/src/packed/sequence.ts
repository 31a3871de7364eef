import { ShapeError } from '@rnnkit/ops';
import { assertTensor, describeValue, fmtShape } from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Sequences of different lengths packed time step by time step, as torch.nn.utils.rnn.PackedSequence.
 * `data` [N, *] holds, for t = 0, 1, ..., step t of the batchSizes[t] longest sequences (in sorted
 * order); N = sum(batchSizes). `sortedIndices[i]` is the original batch index of sorted position i and
 * `unsortedIndices` its inverse (both absent when the batch was already sorted by decreasing length).
 * The PackedSequence owns `data`: `dispose()` frees it.
 * @example
 * ```ts
 * const packed = packPaddedSequence(x, [5, 3], { batchFirst: true }); // x [2, 5, 4]
 * const [out] = new GRU({ inputSize: 4, hiddenSize: 8 }).forward(packed); // a PackedSequence too
 * const [padded, lengths] = padPackedSequence(out as PackedSequence, { batchFirst: true }); // [2, 5, 8], [5, 3]
 * ```
 */
export class PackedSequence {
  /** `[N, *]`: the steps of every sequence, time step by time step. */
  readonly data: tf.Tensor;
  /** How many sequences are still running at each time step (non-increasing). */
  readonly batchSizes: number[];
  /** Original batch index of each sorted position; absent when already sorted. */
  readonly sortedIndices?: number[];
  /** The inverse of sortedIndices; absent when already sorted. */
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

  /** Frees `data`. */
  dispose(): void {
    this.data.dispose();
  }
}

/** The inverse permutation: invert(p)[p[i]] = i. */
export function invert(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return inv;
}

/** Integers in [min, max] from an array or a live 1-D tensor. */
export function intList(value: unknown, arg: string, min: number, max = Infinity): number[] {
  let list: unknown[];
  if (value instanceof tf.Tensor) {
    assertTensor(value, arg);
    if (value.rank !== 1) {
      throw new ShapeError(`${arg}: expected a 1-D tensor, got shape ${fmtShape(value.shape)}`);
    }
    if (value.dtype === 'bool' || value.dtype === 'complex64') {
      throw new TypeError(
        `${arg}: expected an int32 or float32 tensor of integers, got ${describeValue(value)}`,
      );
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

/**
 * A padded batch ([T, B, *], or [B, T, *] with batchFirst) -> T, B and its B lengths, each in
 * [min, T]; throws naming `${where}(${arg})` or `${where}(lengths)`.
 */
export function paddedBatch(
  x: tf.Tensor,
  lengths: unknown,
  batchFirst: boolean,
  where: string,
  arg: string,
  min: number,
): { T: number; B: number; lens: number[] } {
  if (x.rank < 2) {
    throw new ShapeError(
      `${where}(${arg}): expected rank >= 2 (${batchFirst ? '[B, T, *]' : '[T, B, *]'}), got shape ${fmtShape(x.shape)}`,
    );
  }
  const T = x.shape[batchFirst ? 1 : 0] as number;
  const B = x.shape[batchFirst ? 0 : 1] as number;
  const lens = intList(lengths, `${where}(lengths)`, min, T);
  if (lens.length !== B) {
    throw new ShapeError(
      `${where}(lengths): expected ${B} lengths (the batch size of ${arg} ${fmtShape(x.shape)}), got ${lens.length}`,
    );
  }
  return { T, B, lens };
}
