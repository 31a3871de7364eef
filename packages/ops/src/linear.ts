import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from './errors.js';
import {
  assertBool,
  assertFinite,
  assertFloat,
  assertInt,
  assertTensor,
  checkOptions,
  fmtShape,
} from './guards.js';
import { Module } from './module.js';
import { linearProduct } from './product.js';
import { uniform } from './rng.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /**
   * Learn an additive bias, as PyTorch's `bias=True`.
   * @default true
   */
  bias?: boolean;
}

/**
 * y = x W^T + b, as torch.nn.Linear. Keys: weight [out, in], bias [out]; both initialised
 * U(-1/sqrt(in), 1/sqrt(in)), as PyTorch.
 * @example
 * ```ts
 * const fc = new Linear(300, 10); // torch.nn.Linear(300, 10)
 * const y = fc.forward(tf.randomNormal([2, 300])); // [2, 10]
 * ```
 */
export class Linear extends Module {
  /** Size of each input sample (the last dimension of x). */
  readonly inFeatures: number;
  /** Size of each output sample. */
  readonly outFeatures: number;
  /** Whether the layer has a bias (LinearOptions.bias). */
  readonly hasBias: boolean;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    checkOptions(opts, 'Linear', ['bias']);
    this.inFeatures = assertInt(inFeatures, 'Linear(inFeatures)');
    this.outFeatures = assertInt(outFeatures, 'Linear(outFeatures)');
    // checked before the weight is made, so a bad option leaves no variable behind
    this.hasBias = assertBool(opts.bias ?? true, 'Linear({ bias })');
    const bound = 1 / Math.sqrt(inFeatures);
    this.registerParameter('weight', uniform([outFeatures, inFeatures], -bound, bound));
    if (this.hasBias) this.registerParameter('bias', uniform([outFeatures], -bound, bound));
  }

  /** [out, in]. Assigning another module's parameter ties them: `decoder.weight = embedding.weight`. */
  get weight(): tf.Variable {
    return this.parameter('weight');
  }

  /** Ties this weight to another module's parameter (same shape). */
  set weight(param: tf.Variable) {
    this.tieParameter('weight', param);
  }

  /** [out], or null without bias. */
  get bias(): tf.Variable | null {
    return this.hasBias ? this.parameter('bias') : null;
  }

  /** Ties this bias to another module's parameter (same shape). */
  set bias(param: tf.Variable) {
    this.tieParameter('bias', param);
  }

  protected override canTie(): boolean {
    return true;
  }

  /** x: [..., in] -> [..., out] */
  forward(x: tf.Tensor): tf.Tensor {
    this.assertAlive();
    assertTensor(x, 'Linear.forward(x)');
    assertFloat(x, 'Linear.forward(x)');
    const last = x.shape[x.rank - 1];
    if (x.rank === 0 || last !== this.inFeatures) {
      throw new ShapeError(
        `Linear.forward(x): expected shape [..., ${this.inFeatures}] (last dim = inFeatures), got ${fmtShape(x.shape)}`,
      );
    }
    assertFinite([['Linear.forward(x)', x], ...this.namedParameters()]);
    return tf.tidy(() => linear(x, this.weight, this.bias));
  }
}

/**
 * x: [..., in], weight [out, in], bias [out] | null -> [..., out]; no checks (internal hot path).
 * One `linearProduct`: every matMul untransposed, forward and backward.
 */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null): tf.Tensor {
  const inF = weight.shape[1] as number;
  const x2 = x.rank === 2 ? x : tf.reshape(x, [-1, inF]);
  const y = linearProduct(x2 as tf.Tensor2D, weight as tf.Tensor2D, bias as tf.Tensor1D | null);
  return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), weight.shape[0] as number]);
}
