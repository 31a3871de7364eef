import { ShapeError } from '@rnnkit/ops';
import {
  assertBool,
  assertTensor,
  checkOptions,
  describeValue,
  fmtShape,
} from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';
import { paddedBatch } from './sequence.js';

/** Options of {@link padSequence}. */
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
  const { lens } = paddedBatch(padded, lengths, batchFirst, where, 'padded', 0);
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

function swap01(x: tf.Tensor): tf.Tensor {
  if (x.rank < 2) return tf.clone(x);
  return tf.transpose(x, [1, 0, ...x.shape.slice(2).map((_, i) => i + 2)]);
}

/** Non-empty list of live tensors of rank >= 1 with the same trailing dims and dtype. */
export function checkSequences(seqs: unknown, arg: string): asserts seqs is tf.Tensor[] {
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
