import * as tf from '@tensorflow/tfjs-core';
import { DisposedError, ShapeError } from './errors.js';
import { assertInt, checkOptions, describeValue, fmtShape } from './guards.js';
import { Module } from './module.js';
import { normal } from './rng.js';

export interface EmbeddingOptions {
  /** This row starts at zero and never receives a gradient, as in PyTorch. */
  paddingIdx?: number;
}

/** A lookup table, as torch.nn.Embedding. Key: weight [numEmbeddings, embeddingDim], init N(0, 1). */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | null;
  readonly weight: tf.Variable;

  constructor(numEmbeddings: number, embeddingDim: number, opts: EmbeddingOptions = {}) {
    super();
    checkOptions(opts, 'Embedding', ['paddingIdx']);
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
    const w = normal([numEmbeddings, embeddingDim]);
    this.weight = this.registerParameter('weight', pad === null ? w : zeroRow(w, pad));
  }

  /** ids: int32 [...] (or nested number arrays) -> [..., embeddingDim] */
  forward(ids: tf.Tensor | number[] | number[][]): tf.Tensor {
    this.assertAlive();
    const t = checkIds(ids, this.numEmbeddings, 'Embedding.forward(ids)');
    try {
      return tf.tidy(() => embeddingLookup(this.weight, t, this.paddingIdx));
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

/** weight [V, E], ids int32 [...] -> [..., E]; the padding row gets no gradient. */
export function embeddingLookup(
  weight: tf.Tensor,
  ids: tf.Tensor,
  paddingIdx: number | null,
): tf.Tensor {
  const flat = tf.reshape(ids, [-1]);
  const rows = gatherSkippingPad(weight, flat, paddingIdx);
  return tf.reshape(rows, [...ids.shape, weight.shape[1] as number]);
}

/**
 * gather(weight, ids) whose weight gradient is a scatter-add (ScatterNd sums duplicate ids): the wasm
 * backend has no UnsortedSegmentSum kernel, which tfjs's own Gather gradient needs.
 */
function gatherSkippingPad(
  weight: tf.Tensor,
  ids: tf.Tensor,
  paddingIdx: number | null,
): tf.Tensor {
  const f = tf.customGrad(((w: tf.Tensor, i: tf.Tensor, save: tf.GradSaveFunc) => {
    save([i]);
    return {
      value: tf.gather(w, i),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [idx] = saved;
        const rows =
          paddingIdx === null
            ? (dy as tf.Tensor)
            : tf.mul(
                dy as tf.Tensor,
                tf.expandDims(tf.cast(tf.notEqual(idx, paddingIdx), 'float32'), 1),
              );
        const dw = tf.scatterND(tf.expandDims(idx, 1), rows, w.shape);
        return [dw, tf.zerosLike(idx)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(weight, ids) as tf.Tensor;
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
