// Port of PyTorch's test/nn/test_packed_sequence.py (class PackedSequenceTest), test by test; the
// `it` titles are PyTorch's test names. Tests that cannot apply are listed in ../README.md.
import { ShapeError } from '@rnnkit/ops';
import {
  packPaddedSequence,
  packSequence,
  padPackedSequence,
  padSequence,
  unpackSequence,
  unpadSequence,
} from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectEqual, expectThrows, shuffled, values } from './helpers.js';

const BATCH_SIZE = 5;
const MAX_LENGTH = 6;

/** _ordered_sequence: BATCH_SIZE random integer sequences of lengths in [1, MAX_LENGTH], longest first. */
function orderedSequence(dtype: 'float32' | 'int32', seed: number): tf.Tensor[] {
  const lengths = shuffled([1, 2, 3, 4, 5, 6, 6, 3], seed).slice(0, BATCH_SIZE);
  return lengths
    .sort((a, b) => b - a)
    .map((n, i) => tf.cast(tf.floor(tf.randomUniform([n], -128, 128, 'float32', seed + i)), dtype));
}

/** _padded_sequence: the ordered sequences padded ([T, B]) and their lengths. */
function paddedSequence(dtype: 'float32' | 'int32', seed = 1): [tf.Tensor, number[]] {
  const ordered = orderedSequence(dtype, seed);
  const lengths = ordered.map((s) => s.shape[0]);
  const padded = padSequence(ordered);
  tf.dispose(ordered);
  return [padded, lengths];
}

/** Sequences of lengths i*i (i = maxlen..1 or 1..maxlen) with shape [L, 5, ...trailing]. */
function squares(maxlen: number, trailing: number[], descending: boolean): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  for (let k = 1; k <= maxlen; k++) {
    const i = descending ? maxlen + 1 - k : k;
    out.push(tf.randomUniform([i * i, 5, ...trailing], 0, 1, 'float32', k));
  }
  return out;
}

describe('test_packed_sequence.py: PackedSequenceTest', () => {
  it('test_type_casts (dtype is kept through packing; no cast methods in rnnkit)', () => {
    for (const dtype of ['float32', 'int32'] as const) {
      const [padded, lengths] = paddedSequence(dtype);
      const packed = packPaddedSequence(padded, lengths);
      expect(packed.data.dtype).toBe(dtype);
      const [unpacked, lengthsOut] = padPackedSequence(packed);
      expect(unpacked.dtype).toBe(dtype);
      expectEqual(unpacked, padded);
      expect(lengthsOut).toEqual(lengths);
      tf.dispose([padded, packed.data, unpacked]);
    }
  });

  it('test_wrong_order', () => {
    const a = tf.ones([25, 300]);
    const b = tf.ones([22, 300]);
    const ba = padSequence([b, a]);
    expectThrows(() => packPaddedSequence(ba, [22, 25], { enforceSorted: true }), RangeError, [
      'decreasing order',
    ]);
    tf.dispose([a, b, ba]);
  });

  it('test_pad_sequence_with_tensor_sequences', () => {
    const a = tf.tensor2d([[7, 6]], [1, 2], 'int32');
    const b = tf.tensor2d([[-7, -1]], [1, 2], 'int32');
    const seqTuple = padSequence([a, b]);
    const whole = tf.tensor3d([[[7, 6]], [[-7, -1]]], [2, 1, 2], 'int32');
    const seqTensor = padSequence(whole);
    expectEqual(seqTuple, seqTensor);
    expect(seqTuple.shape).toEqual([1, 2, 2]);
    tf.dispose([a, b, whole, seqTuple, seqTensor]);
  });

  it('test_total_length', () => {
    const [padded, lengths] = paddedSequence('float32');
    const maxLength = Math.max(...lengths);
    const packed = packPaddedSequence(padded, lengths);
    for (const totalLength of [-1, 0, maxLength - 1]) {
      for (const batchFirst of [true, false]) {
        expectThrows(() => padPackedSequence(packed, { batchFirst, totalLength }), RangeError, [
          'at least the length of the longest sequence',
        ]);
      }
    }
    for (const batchFirst of [true, false]) {
      const [noExtraPad] = padPackedSequence(packed, { batchFirst });
      for (const delta of [0, 1, 8]) {
        const totalLength = maxLength + delta;
        const [unpacked, lengthsOut] = padPackedSequence(packed, { batchFirst, totalLength });
        expect(lengthsOut).toEqual(lengths);
        expect(unpacked.shape[batchFirst ? 1 : 0]).toBe(totalLength);
        const extra = tf.zeros(batchFirst ? [BATCH_SIZE, delta] : [delta, BATCH_SIZE]);
        const ref = tf.concat([noExtraPad, extra], batchFirst ? 1 : 0);
        expectEqual(unpacked, ref);
        tf.dispose([unpacked, extra, ref]);
      }
      noExtraPad.dispose();
    }
    tf.dispose([padded, packed.data]);
  });

  it('test_to (device moves do not apply; the packed data is a new tensor, the input is kept)', () => {
    const [padded, lengths] = paddedSequence('int32');
    const a = packPaddedSequence(padded, lengths);
    expect(a.data).not.toBe(padded);
    padded.dispose();
    const [back] = padPackedSequence(a);
    expect(back.shape).toEqual([MAX_LENGTH, BATCH_SIZE].map((n, i) => (i === 0 ? lengths[0] : n)));
    tf.dispose([a.data, back]);
  });

  it('test_pack_sequence', () => {
    const compatibility = (
      seqs: tf.Tensor[],
      lengths: number[],
      batchFirst: boolean,
      enforceSorted = false,
    ) => {
      const padded = padSequence(seqs, { batchFirst });
      const packed = packSequence(seqs, { enforceSorted });
      const [unpacked] = padPackedSequence(packed, { batchFirst });
      expectEqual(padded, unpacked);
      const packPadded = packPaddedSequence(padded, lengths, { batchFirst, enforceSorted });
      expectEqual(packed.data, packPadded.data);
      expect(packed.batchSizes).toEqual(packPadded.batchSizes);
      expect(packed.sortedIndices).toEqual(packPadded.sortedIndices);
      tf.dispose([padded, packed.data, unpacked, packPadded.data]);
    };
    // single dimensional
    const a = tf.tensor1d([1, 2, 3], 'int32');
    const b = tf.tensor1d([4, 5], 'int32');
    const c = tf.tensor1d([6], 'int32');
    const packed = packSequence([a, b, c], { enforceSorted: false });
    const expected = [1, 4, 6, 2, 5, 3];
    expect(packed.batchSizes).toEqual([3, 2, 1]);
    expect(values(packed.data)).toEqual(expected);
    expect(packed.sortedIndices).toEqual([0, 1, 2]);
    expect(packed.unsortedIndices).toEqual([0, 1, 2]);
    const packedUnsorted = packSequence([b, c, a], { enforceSorted: false });
    expect(packedUnsorted.batchSizes).toEqual([3, 2, 1]);
    expect(values(packedUnsorted.data)).toEqual(expected);
    expect(packedUnsorted.sortedIndices).toEqual([2, 0, 1]);
    expect(packedUnsorted.unsortedIndices).toEqual([1, 2, 0]);
    // single dimensional, enforceSorted = true
    const packedEnforceSorted = packSequence([a, b, c], { enforceSorted: true });
    expect(packedEnforceSorted.batchSizes).toEqual([3, 2, 1]);
    expect(values(packedEnforceSorted.data)).toEqual(expected);
    expect(packedEnforceSorted.sortedIndices).toBeUndefined();
    expect(packedEnforceSorted.unsortedIndices).toBeUndefined();
    expectThrows(() => packSequence([b, c, a], { enforceSorted: true }), RangeError, [
      'sorted in decreasing order',
    ]);
    expectThrows(() => packSequence([b, c, a], { enforceSorted: true }), RangeError, [
      'enforceSorted: false',
    ]);
    tf.dispose([a, b, c, packed.data, packedUnsorted.data, packedEnforceSorted.data]);
    // more dimensions
    const maxlen = 9;
    for (const numDim of [0, 1, 2, 3]) {
      const trailing = new Array(numDim).fill(4);
      const sequences = squares(maxlen, trailing, true);
      const lengths = sequences.map((s) => s.shape[0]);
      const unsorted = shuffled(sequences, numDim);
      const unsortedLengths = unsorted.map((s) => s.shape[0]);
      for (const batchFirst of [true, false]) {
        for (const enforceSorted of [true, false])
          compatibility(sequences, lengths, batchFirst, enforceSorted);
        compatibility(unsorted, unsortedLengths, batchFirst);
      }
      tf.dispose(sequences);
    }
  });

  it('test_unpack_sequence', () => {
    // single dimensional
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.tensor1d([4, 5]);
    const c = tf.tensor1d([6]);
    const sequences = [a, b, c];
    const packed = packSequence(sequences, { enforceSorted: false });
    const unpacked = unpackSequence(packed);
    unpacked.forEach((s, i) => {
      expectEqual(s, sequences[i]);
    });
    tf.dispose([a, b, c, packed.data, ...unpacked]);
    // more dimensions
    const maxlen = 9;
    for (const numDim of [0, 1, 2, 3]) {
      const seqs = shuffled(squares(maxlen, new Array(numDim).fill(4), false), numDim + 7);
      const p = packSequence(seqs, { enforceSorted: false });
      const back = unpackSequence(p);
      back.forEach((s, i) => {
        expectEqual(s, seqs[i]);
      });
      tf.dispose([...seqs, p.data, ...back]);
    }
  });

  it('test_pack_padded_sequence', () => {
    const generateTestCase = (sortedLengths: number[], shouldShuffle: boolean) => {
      const maxLength = sortedLengths[0];
      const batchSizes = Array.from(
        { length: maxLength },
        (_, i) => sortedLengths.filter((x) => x >= i + 1).length,
      );
      // sequence i (from 1) of length l: i*100 + arange(1, 5l + 1) as [l, 1, 5], padded to maxLength
      const padded = tf.concat(
        sortedLengths.map((l, k) =>
          tf.pad(tf.reshape(tf.add(tf.range(1, 5 * l + 1), (k + 1) * 100), [l, 1, 5]), [
            [0, maxLength - l],
            [0, 0],
            [0, 0],
          ]),
        ),
        1,
      );
      const expectedData: number[] = [];
      batchSizes.forEach((bs, n) => {
        for (let i = 0; i < bs; i++)
          for (let j = 1; j <= 5; j++) expectedData.push(j + (i + 1) * 100 + 5 * n);
      });
      if (!shouldShuffle)
        return {
          padded,
          lengths: sortedLengths,
          expectedData,
          batchSizes,
          unsortedIndices: undefined,
        };
      const permutation = shuffled(
        sortedLengths.map((_, i) => i),
        3,
      );
      const idx = tf.tensor1d(permutation, 'int32');
      const shuffledPadded = tf.gather(padded, idx, 1);
      tf.dispose([padded, idx]);
      return {
        padded: shuffledPadded,
        lengths: permutation.map((i) => sortedLengths[i]),
        expectedData,
        batchSizes,
        unsortedIndices: permutation,
      };
    };
    const testCases: Array<[number[], boolean]> = [
      [[10, 8, 4, 2, 2, 2, 1], false],
      [[11, 10, 8, 6, 4, 3, 1], false],
      [[11, 10, 8, 6, 4, 3, 1], true],
    ];
    for (const [sortedLengths, shouldShuffle] of testCases) {
      for (const batchFirst of [true, false]) {
        const { padded, lengths, expectedData, batchSizes, unsortedIndices } = generateTestCase(
          sortedLengths,
          shouldShuffle,
        );
        const src = batchFirst ? tf.transpose(padded, [1, 0, 2]) : padded;
        const opts = { batchFirst, enforceSorted: !shouldShuffle };
        // check output
        const packed = packPaddedSequence(src, lengths, opts);
        expect(values(packed.data)).toEqual(expectedData);
        expect(packed.batchSizes).toEqual(batchSizes);
        expect(packed.unsortedIndices).toEqual(unsortedIndices);
        // test inverse
        const [unpacked, unpackedLen] = padPackedSequence(packed, { batchFirst });
        expectEqual(unpacked, src);
        expect(unpackedLen).toEqual(lengths);
        // check grad
        const gradOutput = tf.randomNormal(unpacked.shape, 0, 1, 'float32', 5);
        const grad = tf.grad((p: tf.Tensor) => {
          const s = batchFirst ? tf.transpose(p, [1, 0, 2]) : p;
          const [u] = padPackedSequence(packPaddedSequence(s, lengths, opts), { batchFirst });
          return tf.sum(tf.mul(u, gradOutput));
        })(padded);
        const go = batchFirst ? tf.transpose(gradOutput, [1, 0, 2]) : gradOutput;
        const g = grad.arraySync() as number[][][];
        const want = go.arraySync() as number[][][];
        lengths.forEach((l, i) => {
          for (let t = 0; t < g.length; t++) {
            expect(g[t][i]).toEqual(t < l ? want[t][i] : [0, 0, 0, 0, 0]);
          }
        });
        tf.dispose([padded, src, packed.data, unpacked, gradOutput, grad, go]);
      }
    }
    // test error messages
    const x = tf.randomNormal([3, 3]);
    expectThrows(() => packPaddedSequence(x, [1, 3, 2]), RangeError, ['enforceSorted: false']);
    const empty = tf.zeros([0, 0]);
    expectThrows(() => packPaddedSequence(empty, []), ShapeError, ['empty tensors']);
    const empty3 = tf.zeros([0, 1, 10]);
    expectThrows(() => packPaddedSequence(empty3, [0], { batchFirst: true }), ShapeError, [
      'empty tensors',
    ]);
    tf.dispose([x, empty, empty3]);
  });

  it('test_pad_sequence', () => {
    const pad = (t: tf.Tensor, length: number) =>
      tf.pad(
        t,
        t.shape.map((n, d) => (d === 0 ? [0, length - n] : [0, 0])) as Array<[number, number]>,
      );
    // single dimensional
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.tensor1d([4, 5]);
    const c = tf.tensor1d([6]);
    // batch_first = true
    let expected = tf.tensor2d([
      [4, 5, 0],
      [1, 2, 3],
      [6, 0, 0],
    ]);
    let padded = padSequence([b, a, c], { batchFirst: true });
    expectEqual(padded, expected);
    padded.dispose();
    // batch_first = false
    padded = padSequence([b, a, c]);
    const t = tf.transpose(expected);
    expectEqual(padded, t);
    tf.dispose([padded, t, expected]);
    // pad with non-zero value
    expected = tf.tensor2d([
      [4, 5, 1],
      [1, 2, 3],
      [6, 1, 1],
    ]);
    padded = padSequence([b, a, c], { batchFirst: true, paddingValue: 1 });
    expectEqual(padded, expected);
    tf.dispose([padded, expected]);
    // Test pad sorted sequence
    expected = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 0],
      [6, 0, 0],
    ]);
    padded = padSequence([a, b, c], { batchFirst: true });
    expectEqual(padded, expected);
    tf.dispose([padded, expected]);
    // paddingSide 'left' (PyTorch 2.5's padding_side)
    expected = tf.tensor2d([
      [0, 4, 5],
      [1, 2, 3],
      [0, 0, 6],
    ]);
    padded = padSequence([b, a, c], { batchFirst: true, paddingSide: 'left' });
    expectEqual(padded, expected);
    tf.dispose([padded, expected, a, b, c]);
    // more dimensions
    const maxlen = 9;
    for (const numDim of [0, 1, 2, 3]) {
      const sequences = shuffled(squares(maxlen, new Array(numDim).fill(4), false), numDim + 11);
      const exp = tf.stack(sequences.map((s) => pad(s, maxlen * maxlen)));
      const first = padSequence(sequences, { batchFirst: true });
      expectEqual(first, exp);
      const timeMajor = padSequence(sequences);
      const swapped = tf.transpose(exp, [1, 0, ...exp.shape.slice(2).map((_, i) => i + 2)]);
      expectEqual(timeMajor, swapped);
      tf.dispose([...sequences, exp, first, timeMajor, swapped]);
    }
  });

  it('test_unpad_sequence', () => {
    // single dimensional
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.tensor1d([4, 5]);
    const c = tf.tensor1d([6]);
    const sequences = [a, b, c];
    const lengths = tf.tensor1d([3, 2, 1], 'int32');
    for (const batchFirst of [true, false]) {
      const padded = padSequence(sequences, { batchFirst });
      const unpadded = unpadSequence(padded, lengths as tf.Tensor1D, { batchFirst });
      unpadded.forEach((s, i) => {
        expectEqual(s, sequences[i]);
      });
      tf.dispose([padded, ...unpadded]);
    }
    tf.dispose([a, b, c, lengths]);
    // more dimensions
    const maxlen = 10;
    for (const numDim of [0, 1, 2, 3]) {
      for (const batchFirst of [true, false]) {
        const seqs = shuffled(squares(maxlen, new Array(numDim).fill(4), false), numDim + 13);
        const lens = seqs.map((s) => s.shape[0]);
        const padded = padSequence(seqs, { batchFirst });
        const unpadded = unpadSequence(padded, lens, { batchFirst });
        unpadded.forEach((s, i) => {
          expectEqual(s, seqs[i]);
        });
        tf.dispose([...seqs, padded, ...unpadded]);
      }
    }
  });
});
