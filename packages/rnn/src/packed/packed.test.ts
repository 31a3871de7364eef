import { compare } from '@rnnkit/golden';
import { ShapeError } from '@rnnkit/ops';
import {
  expectNoLeak,
  expectParity,
  expectThrows,
  fixture as golden,
  values,
} from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { packPaddedSequence, packSequence, padPackedSequence, unpackSequence } from './pack.js';
import { padSequence, unpadSequence } from './pad.js';
import { PackedSequence } from './sequence.js';

const fixture = (name: string) => golden('packed', name);

function expectMatch(actual: tf.Tensor, expected: tf.Tensor, tol = 1e-6): void {
  expect(actual.shape).toEqual(expected.shape);
  expect(compare(actual, expected).abs).toBeLessThanOrEqual(tol);
}

describe('packPaddedSequence / padPackedSequence: PyTorch parity (values and gradients)', () => {
  for (const layout of ['tf', 'bf']) {
    for (const order of ['sorted', 'unsorted']) {
      it(`pack_padded_${layout}_${order}`, () => {
        // data, batch sizes, indices, both paddings and the gradient of x (tooling/golden checks/packed.mjs)
        expectParity('packed', `pack_padded_${layout}_${order}`, {
          packPaddedSequence,
          padPackedSequence,
        });
        const { t, config } = fixture(`pack_padded_${layout}_${order}`);
        const opts = { batchFirst: config.batchFirst, enforceSorted: config.enforceSorted };
        const packed = expectNoLeak(
          () => packPaddedSequence(t['input.x'], config.lengths, opts),
          1,
        );
        expect(packed.lengths).toEqual(config.lengths);
        if (order === 'sorted') expect(packed.sortedIndices).toBeUndefined();
        const [padded, lengths] = expectNoLeak(
          () => padPackedSequence(packed, { batchFirst: config.batchFirst }),
          1,
        );
        expect(lengths).toEqual(config.lengths);
        tf.dispose([packed.data, padded, ...Object.values(t)]);
      });
    }
  }

  it('keeps the dtype (int32 sequences pack and unpack exactly)', () => {
    const x = tf.tensor2d(
      [
        [1, 4, 6],
        [2, 5, 0],
        [3, 0, 0],
      ],
      [3, 3],
      'int32',
    );
    const packed = packPaddedSequence(x, [3, 2, 1]);
    expect(packed.data.dtype).toBe('int32');
    expect(values(packed.data)).toEqual([1, 4, 6, 2, 5, 3]);
    const [back] = padPackedSequence(packed);
    expect(back.dtype).toBe('int32');
    expect(values(back)).toEqual(values(x));
    tf.dispose([x, packed.data, back]);
  });

  it('takes lengths as a 1-D tensor', () => {
    const x = tf.ones([4, 2, 1]);
    const lengths = tf.tensor1d([2, 4], 'int32');
    const packed = packPaddedSequence(x, lengths, { enforceSorted: false });
    expect(packed.batchSizes).toEqual([2, 2, 1, 1]);
    expect(packed.sortedIndices).toEqual([1, 0]);
    tf.dispose([x, lengths, packed.data]);
  });
});

describe('padSequence, packSequence, unpackSequence: PyTorch parity', () => {
  for (const side of ['right', 'left'] as const) {
    for (const layout of ['tf', 'bf']) {
      it(`pad_sequence_${side}_${layout}`, () => {
        expectParity('packed', `pad_sequence_${side}_${layout}`, { padSequence });
      });
    }
  }

  it('pack_sequence_unsorted (and unpackSequence gives the sequences back)', () => {
    // data, batch sizes, indices, gradients, unpackSequence (tooling/golden checks/packed.mjs)
    expectParity('packed', 'pack_sequence_unsorted', { packSequence, unpackSequence });
    const { t } = fixture('pack_sequence_unsorted');
    const seqs = [0, 1, 2, 3].map((i) => t[`input.s${i}`]);
    const packed = expectNoLeak(() => packSequence(seqs, { enforceSorted: false }), 1);
    const back = expectNoLeak(() => unpackSequence(packed), 4);
    const padded = padSequence(seqs, { batchFirst: true });
    const parts = unpadSequence(padded, [2, 5, 1, 5], { batchFirst: true });
    for (const [i, s] of parts.entries()) expectMatch(s, seqs[i], 0);
    packed.dispose();
    expect(packed.data.isDisposed).toBe(true);
    tf.dispose([...back, padded, ...parts, ...Object.values(t)]);
  });

  it('padSequence accepts one tensor [B, L, *] as B sequences', () => {
    const a = tf.tensor3d([[[7, 6]], [[-7, -1]]]);
    const fromList = padSequence([tf.tensor2d([[7, 6]]), tf.tensor2d([[-7, -1]])]);
    const fromTensor = padSequence(a);
    expect(fromTensor.shape).toEqual([1, 2, 2]);
    expect(values(fromTensor)).toEqual(values(fromList));
    tf.dispose([a, fromList, fromTensor]);
  });
});

describe('torch.nn.utils.rnn errors, with the argument, what was expected and what was given', () => {
  it('unsorted lengths with enforceSorted (the default)', () => {
    const x = tf.zeros([3, 3]);
    expectThrows(() => packPaddedSequence(x, [1, 3, 2]), RangeError, [
      'packPaddedSequence(lengths)',
      'decreasing order',
      'got 3 after 1 at index 1',
      'enforceSorted: false',
    ]);
    const seqs = [tf.ones([2]), tf.ones([1]), tf.ones([3])];
    expectThrows(() => packSequence(seqs), RangeError, ['decreasing order']);
    tf.dispose([x, ...seqs]);
  });

  it('empty tensors, zero or too long lengths, a wrong number of lengths', () => {
    const empty = tf.zeros([0, 0]);
    expectThrows(() => packPaddedSequence(empty, []), ShapeError, ['Cannot pack empty tensors']);
    const x = tf.zeros([3, 2]);
    expectThrows(() => packPaddedSequence(x, [4, 1]), RangeError, [
      'packPaddedSequence(lengths)',
      'integers in [1, 3]',
      'got 4 at index 0',
    ]);
    expectThrows(() => packPaddedSequence(x, [3, 0]), RangeError, ['got 0 at index 1']);
    expectThrows(() => packPaddedSequence(x, [3, 1, 1]), ShapeError, [
      'expected 2 lengths',
      'got 3',
    ]);
    expectThrows(() => packPaddedSequence(x, [3, 1.5]), RangeError, ['got 1.5']);
    expectThrows(() => packPaddedSequence(x, 'abc' as never), TypeError, ['an array', '"abc"']);
    expectThrows(() => packPaddedSequence(x, [3, 1], { batch_first: true } as never), TypeError, [
      'did you mean "batchFirst"?',
    ]);
    const v = tf.zeros([3]);
    expectThrows(() => packPaddedSequence(v, [3]), ShapeError, ['rank >= 2', '[3]']);
    tf.dispose([empty, x, v]);
  });

  it('totalLength shorter than the longest sequence', () => {
    const x = tf.zeros([3, 2]);
    const packed = packPaddedSequence(x, [3, 1]);
    for (const totalLength of [-1, 0, 2, 3.5]) {
      expectThrows(() => padPackedSequence(packed, { totalLength }), RangeError, [
        'padPackedSequence({ totalLength })',
        'at least the length of the longest sequence (3)',
        `got ${totalLength}`,
      ]);
    }
    expectThrows(() => padPackedSequence(x as never), TypeError, ['a PackedSequence']);
    tf.dispose([x, packed.data]);
  });

  it('padSequence and unpadSequence inputs', () => {
    expectThrows(() => padSequence([]), RangeError, ['padSequence(seqs)', 'at least one']);
    const a = tf.ones([2, 3]);
    const b = tf.ones([2, 4]);
    expectThrows(() => padSequence([a, b]), ShapeError, ['padSequence(seqs)[1]', '[3]', '[2,4]']);
    expectThrows(() => padSequence([a], { paddingSide: 'top' as never }), TypeError, [
      "'right' or 'left'",
      '"top"',
    ]);
    expectThrows(() => unpadSequence(a, [3, 1, 1]), RangeError, [
      'unpadSequence(lengths)',
      'got 3',
    ]);
    tf.dispose([a, b]);
  });

  it('PackedSequence checks its parts', () => {
    const data = tf.zeros([4, 2]);
    expectThrows(() => new PackedSequence(data, [2, 1]), ShapeError, ['expected 3 rows', '[4,2]']);
    expectThrows(() => new PackedSequence(data, [1, 3]), RangeError, ['non-increasing']);
    expectThrows(() => new PackedSequence(data, [2, 2], [0, 0]), RangeError, ['a permutation']);
    const ok = new PackedSequence(data, [2, 2], [1, 0]);
    expect(ok.unsortedIndices).toEqual([1, 0]);
    expect(ok.lengths).toEqual([2, 2]);
    data.dispose();
  });
});
