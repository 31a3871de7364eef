import * as tf from '@tensorflow/tfjs-core';
import { vectorNorm } from './clip.js';
import { DisposedError, ShapeError } from './errors.js';
import {
  assertBool,
  assertFloat,
  assertInt,
  assertTensor,
  checkOptions,
  describeValue,
  fmtShape,
  raggedAt,
} from './guards.js';
import { Module } from './module.js';
import { normal } from './rng.js';

/** Options of {@link Embedding}, as torch.nn.Embedding's. */
export interface EmbeddingOptions {
  /**
   * This row starts at zero (not in fromPretrained) and never receives a gradient, as in PyTorch;
   * negative counts from the end.
   * @default none
   */
  paddingIdx?: number;
  /**
   * Rows looked up with a larger norm are renormalised to this norm, in the weight (in place).
   * @default none
   */
  maxNorm?: number;
  /** Order of the maxNorm norm. @default 2 */
  normType?: number;
  /** Scale each row's gradient by 1 / (its count among the ids of the call). @default false */
  scaleGradByFreq?: boolean;
}

/** Options of {@link Embedding.fromPretrained}. */
export interface FromPretrainedOptions extends EmbeddingOptions {
  /** The weight is not trained (trainStep skips it). @default true */
  freeze?: boolean;
}

const OPTIONS = ['paddingIdx', 'maxNorm', 'normType', 'scaleGradByFreq'];
/** fromPretrained passes its weight to the constructor under this key (no random init). */
const PRETRAINED = Symbol('pretrained');

/**
 * A lookup table, as torch.nn.Embedding. Key: weight [numEmbeddings, embeddingDim], init N(0, 1).
 * @example new Embedding(1000, 64, { paddingIdx: 0 }).forward(ids) // int32 [B, T] -> [B, T, 64]
 */
export class Embedding extends Module {
  /** Size of the vocabulary (ids run from 0 to numEmbeddings - 1). */
  readonly numEmbeddings: number;
  /** Size of each embedding vector. */
  readonly embeddingDim: number;
  /** The padding row (made non-negative), or null. */
  readonly paddingIdx: number | null;
  /** See {@link EmbeddingOptions.maxNorm}; null when off. */
  readonly maxNorm: number | null;
  /** See {@link EmbeddingOptions.normType}. */
  readonly normType: number;
  /** See {@link EmbeddingOptions.scaleGradByFreq}. */
  readonly scaleGradByFreq: boolean;

  constructor(numEmbeddings: number, embeddingDim: number, opts: EmbeddingOptions = {}) {
    super();
    checkOptions(opts, 'Embedding', OPTIONS);
    this.numEmbeddings = assertInt(numEmbeddings, 'Embedding(numEmbeddings)');
    this.embeddingDim = assertInt(embeddingDim, 'Embedding(embeddingDim)');
    let pad = opts.paddingIdx ?? null;
    if (pad !== null) {
      if (!Number.isInteger(pad) || pad < -numEmbeddings || pad >= numEmbeddings) {
        throw new RangeError(
          `Embedding({ paddingIdx }): expected an integer in [${-numEmbeddings}, ${numEmbeddings - 1}], got ${describeValue(pad)}`,
        );
      }
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    const maxNorm = opts.maxNorm ?? null;
    if (maxNorm !== null && (typeof maxNorm !== 'number' || !(maxNorm >= 0))) {
      throw new RangeError(
        `Embedding({ maxNorm }): expected a number >= 0, got ${describeValue(maxNorm)}`,
      );
    }
    this.maxNorm = maxNorm;
    this.normType = opts.normType ?? 2;
    if (typeof this.normType !== 'number' || Number.isNaN(this.normType)) {
      throw new TypeError(
        `Embedding({ normType }): expected a number (2, 1, Infinity, ...), got ${describeValue(opts.normType)}`,
      );
    }
    this.scaleGradByFreq = assertBool(
      opts.scaleGradByFreq ?? false,
      'Embedding({ scaleGradByFreq })',
    );
    const given = (opts as { [PRETRAINED]?: { weight: tf.Tensor; freeze: boolean } })[PRETRAINED];
    if (given) {
      this.registerParameter('weight', tf.clone(given.weight), !given.freeze);
    } else {
      const w = normal([numEmbeddings, embeddingDim]);
      this.registerParameter('weight', pad === null ? w : zeroRow(w, pad));
    }
  }

  /**
   * An Embedding holding a copy of `weights` [numEmbeddings, embeddingDim], as
   * torch.nn.Embedding.from_pretrained: frozen unless `freeze` is false; the paddingIdx row is kept.
   */
  static fromPretrained(weights: tf.Tensor2D, opts: FromPretrainedOptions = {}): Embedding {
    const where = 'Embedding.fromPretrained';
    checkOptions(opts, where, ['freeze', ...OPTIONS]);
    assertTensor(weights, `${where}(weights)`);
    if (weights.rank !== 2) {
      throw new ShapeError(
        `${where}(weights): expected a 2-D tensor [numEmbeddings, embeddingDim], got shape ${fmtShape(weights.shape)}`,
      );
    }
    assertFloat(weights, `${where}(weights)`);
    const { freeze = true, ...rest } = opts;
    const pretrained = { weight: weights, freeze: assertBool(freeze, `${where}({ freeze })`) };
    return new Embedding(weights.shape[0], weights.shape[1], {
      ...rest,
      [PRETRAINED]: pretrained,
    } as EmbeddingOptions);
  }

  /** [numEmbeddings, embeddingDim]. Assigning another module's parameter ties them. */
  get weight(): tf.Variable {
    return this.parameter('weight');
  }

  /** Ties this weight to another module's parameter (same shape), as `decoder.weight = embedding.weight`. */
  set weight(param: tf.Variable) {
    this.tieParameter('weight', param);
  }

  protected override canTie(): boolean {
    return true;
  }

  /**
   * ids: int32 [...] (or nested number arrays) -> [..., embeddingDim]. With maxNorm, the rows looked
   * up are first renormalised in the weight itself (torch.embedding_renorm_).
   */
  forward(ids: tf.Tensor | number[] | number[][]): tf.Tensor {
    this.assertAlive();
    const t = checkIds(ids, this.numEmbeddings, 'Embedding.forward(ids)');
    try {
      if (this.maxNorm !== null) embeddingRenorm(this.weight, t, this.maxNorm, this.normType);
      return tf.tidy(() =>
        embeddingLookup(this.weight, t, this.paddingIdx, {
          scaleGradByFreq: this.scaleGradByFreq,
        }),
      );
    } finally {
      if (t !== ids) t.dispose();
    }
  }
}

/**
 * Validates token ids: an int32 tensor (or integer arrays), every id in [0, numEmbeddings).
 * Returns a tensor (a new one when `ids` was an array).
 */
export function checkIds(ids: unknown, numEmbeddings: number, arg: string): tf.Tensor {
  let t: tf.Tensor;
  if (ids instanceof tf.Tensor) {
    if (ids.isDisposed) throw new DisposedError(`${arg}: the tensor was already disposed`);
    if (ids.dtype !== 'int32') {
      throw new TypeError(
        `${arg}: expected an int32 tensor of token ids, got a ${ids.dtype} tensor of shape ${fmtShape(ids.shape)}`,
      );
    }
    t = ids;
  } else if (Array.isArray(ids)) {
    const flat = (ids as unknown[]).flat(Number.POSITIVE_INFINITY) as unknown[];
    const bad = flat.findIndex((v) => typeof v !== 'number' || !Number.isInteger(v));
    if (bad >= 0) {
      throw new TypeError(
        `${arg}: expected integer token ids, got ${describeValue(flat[bad])} at flat index ${bad}`,
      );
    }
    const where = raggedAt(ids, 'ids');
    if (where) {
      throw new ShapeError(
        `${arg}: expected a rectangular nested array of ids (every row of one length), got ${where}`,
      );
    }
    t = tf.tensor(ids as number[], undefined, 'int32');
  } else {
    throw new TypeError(
      `${arg}: expected an int32 tensor or an array of token ids, got ${describeValue(ids)}`,
    );
  }
  if (t.rank === 0) {
    if (t !== ids) t.dispose();
    throw new ShapeError(`${arg}: expected ids of rank >= 1, got a scalar`);
  }
  const data = t.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < 0 || v >= numEmbeddings) {
      if (t !== ids) t.dispose();
      throw new RangeError(
        `${arg}: expected ids in [0, ${numEmbeddings - 1}] (numEmbeddings = ${numEmbeddings}), got ${v} at flat index ${i}`,
      );
    }
  }
  return t;
}

/**
 * weight [V, E], ids int32 [...] -> [..., E], as torch.nn.functional.embedding: the padding row gets
 * no gradient; with scaleGradByFreq each row's gradient is divided by its count among `ids`.
 */
export function embeddingLookup(
  weight: tf.Tensor,
  ids: tf.Tensor,
  paddingIdx: number | null,
  opts: { scaleGradByFreq?: boolean } = {},
): tf.Tensor {
  assertTensor(weight, 'embeddingLookup(weight)');
  if (weight.rank !== 2) {
    throw new ShapeError(
      `embeddingLookup(weight): 'weight' must be 2-D ([numEmbeddings, embeddingDim]), got shape ${fmtShape(weight.shape)}`,
    );
  }
  const flat = tf.reshape(ids, [-1]);
  const rows =
    paddingIdx === null && !opts.scaleGradByFreq
      ? tf.gather(weight, flat)
      : gatherScaled(weight, flat, paddingIdx, opts.scaleGradByFreq ?? false);
  return tf.reshape(rows, [...ids.shape, weight.shape[1] as number]);
}

/** gather(weight, ids) whose weight gradient skips the padding row and may divide by id counts. */
function gatherScaled(
  weight: tf.Tensor,
  ids: tf.Tensor,
  paddingIdx: number | null,
  byFreq: boolean,
): tf.Tensor {
  const V = weight.shape[0] as number;
  const f = tf.customGrad(((w: tf.Tensor, i: tf.Tensor, save: tf.GradSaveFunc) => {
    save([i]);
    return {
      value: tf.gather(w, i),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [idx] = saved;
        let scale: tf.Tensor = tf.ones(idx.shape);
        if (paddingIdx !== null) scale = tf.cast(tf.notEqual(idx, paddingIdx), 'float32');
        if (byFreq) {
          const counts = tf.unsortedSegmentSum(tf.onesLike(scale), idx as tf.Tensor1D, V);
          scale = tf.div(scale, tf.gather(counts, idx));
        }
        const rows = tf.mul(dy as tf.Tensor, tf.expandDims(scale, 1));
        return [tf.unsortedSegmentSum(rows, idx as tf.Tensor1D, V), tf.zerosLike(idx)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(weight, ids) as tf.Tensor;
}

/**
 * torch.embedding_renorm_: each distinct row of `weight` named in `ids` whose norm of order p
 * exceeds maxNorm is scaled by maxNorm / (norm + 1e-7), in the variable itself. Not differentiated.
 */
export function embeddingRenorm(
  weight: tf.Variable,
  ids: tf.Tensor,
  maxNorm: number,
  p: number,
): void {
  const unique = [...new Set(ids.dataSync() as Int32Array)].sort((a, b) => a - b);
  const E = weight.shape[1] as number;
  tf.tidy(() => {
    const idx = tf.tensor2d(unique, [unique.length, 1], 'int32');
    const rows = tf.gatherND(weight, idx);
    const data = rows.dataSync() as Float32Array;
    const scales = unique.map((_, r) => {
      const norm = Math.fround(vectorNorm(data.subarray(r * E, (r + 1) * E), p));
      return norm > maxNorm ? Math.fround(maxNorm / (norm + 1e-7)) : 1;
    });
    if (scales.every((s) => s === 1)) return;
    const scaled = tf.mul(rows, tf.tensor2d(scales, [unique.length, 1]));
    const hit = tf.scatterND(idx, tf.ones([unique.length, 1]), [weight.shape[0] as number, 1]);
    // rows not looked up are kept bit for bit; looked-up rows are replaced by their scaled copy
    weight.assign(tf.add(tf.mul(weight, tf.sub(1, hit)), tf.scatterND(idx, scaled, weight.shape)));
  });
}

/** A copy of w [V, E] with row `row` set to zero; disposes w. */
function zeroRow(w: tf.Tensor, row: number): tf.Tensor {
  const mask = tf.tidy(() =>
    tf.expandDims(tf.cast(tf.notEqual(tf.range(0, w.shape[0], 1, 'int32'), row), 'float32'), 1),
  );
  const out = tf.mul(w, mask);
  tf.dispose([w, mask]);
  return out;
}
