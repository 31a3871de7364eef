import { linear, Module, ShapeError } from '@rnnkit/ops';
import {
  assertFloat,
  assertInt,
  assertShape,
  checkLengths,
  checkOptions,
  fillPadding,
  fmtShape,
  uniform,
  zeroPadding,
} from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Attention pooling: scores s_t = x_t . w + b (a learned Linear(F, 1): keys weight [1, F], bias [1]),
 * softmax over valid steps, result sum_t a_t x_t.
 * @example
 * ```ts
 * const att = new AttentionPooling({ inputSize: 64 });
 * const pooled = att.forward(states, { lengths: [10, 7] }); // states [2, 10, 64] -> [2, 64]
 * ```
 */
export class AttentionPooling extends Module {
  /** F, the size of each step's features. */
  readonly inputSize: number;
  /** [1, F] */
  readonly weight: tf.Variable;
  /** [1] */
  readonly bias: tf.Variable;

  constructor(opts: { inputSize: number }) {
    super();
    checkOptions(opts, 'AttentionPooling', ['inputSize']);
    this.inputSize = assertInt(opts?.inputSize, 'AttentionPooling({ inputSize })');
    const k = 1 / Math.sqrt(this.inputSize);
    this.weight = this.registerParameter('weight', uniform([1, this.inputSize], -k, k));
    this.bias = this.registerParameter('bias', uniform([1], -k, k));
  }

  /** x: [B, T, F] -> attention weights [B, T] (zero on padded steps) */
  weights(x: tf.Tensor, opts: { lengths?: ArrayLike<number> } = {}): tf.Tensor {
    const lengths = this.check(x, opts);
    if (x.shape[0] === 0) return tf.zeros([0, x.shape[1] as number]); // empty batch (wasm traps on it)
    return tf.tidy(() => this.softmax(lengths ? zeroPadding(x, lengths) : x, lengths));
  }

  /** x: [B, T, F] -> [B, F]; padded steps (even NaN or Infinity there) never reach the result. */
  forward(x: tf.Tensor, opts: { lengths?: ArrayLike<number> } = {}): tf.Tensor {
    const lengths = this.check(x, opts);
    if (x.shape[0] === 0) return tf.zeros([0, this.inputSize]); // empty batch (wasm traps on it)
    return tf.tidy(() => {
      const xm = lengths ? zeroPadding(x, lengths) : x;
      return tf.sum(tf.mul(xm, tf.expandDims(this.softmax(xm, lengths), 2)), 1);
    });
  }

  private check(x: tf.Tensor, opts: { lengths?: ArrayLike<number> }): number[] | null {
    this.assertAlive();
    assertShape(x, 'AttentionPooling.forward(x)', [null, null, this.inputSize]);
    assertFloat(x, 'AttentionPooling.forward(x)');
    checkOptions(opts, 'AttentionPooling.forward', ['lengths']);
    const [B, T] = x.shape as number[];
    if (T === 0) {
      throw new ShapeError(
        `AttentionPooling.forward(x): expected at least one time step, got shape ${fmtShape(x.shape)}`,
      );
    }
    return checkLengths(opts.lengths, 'AttentionPooling.forward(opts.lengths)', B, T);
  }

  /** softmax over T of x_t . w + b; exactly 0 on padded steps, whatever the valid scores */
  private softmax(x: tf.Tensor, lengths: number[] | null): tf.Tensor {
    const [B, T] = x.shape as number[];
    let scores = tf.reshape(linear(x, this.weight, this.bias), [B, T]);
    // -Infinity on padded steps: exp(-Infinity - max) is exactly 0
    if (lengths) scores = fillPadding(scores, lengths, Number.NEGATIVE_INFINITY);
    return tf.softmax(scores, 1);
  }
}
