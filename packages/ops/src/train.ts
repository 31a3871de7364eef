import * as tf from '@tensorflow/tfjs-core';
import { clipGradNorm, globalNorm } from './clip.js';
import { ensureGradients } from './gradients.js';
import { checkOptions, describeValue } from './guards.js';
import type { Module } from './module.js';

export interface TrainStepOptions {
  /** Clip the global gradient norm to this value before the update (clip_grad_norm_). */
  clipNorm?: number;
}

/**
 * One step of backpropagation through time: gradients of `loss()` with respect to every parameter
 * of `model`, optional clipping, then `optimizer.applyGradients`. Leaves no tensors behind.
 * Returns the loss and the gradient norm before clipping.
 */
export function trainStep(
  model: Module,
  loss: () => tf.Scalar,
  optimizer: tf.Optimizer,
  opts: TrainStepOptions = {},
): { loss: number; gradNorm: number } {
  checkOptions(opts, 'trainStep', ['clipNorm']);
  if (typeof loss !== 'function')
    throw new TypeError(
      `trainStep(loss): expected a function returning a scalar, got ${describeValue(loss)}`,
    );
  if (!(optimizer instanceof tf.Optimizer)) {
    throw new TypeError(
      `trainStep(optimizer): expected a tf.train optimizer, got ${describeValue(optimizer)}`,
    );
  }
  if (model === null || typeof model !== 'object' || typeof model.parameters !== 'function') {
    throw new TypeError(`trainStep(model): expected a Module, got ${describeValue(model)}`);
  }
  ensureGradients();
  const vars = model.parameters();
  // A non-scalar loss is reported after the backward pass: throwing inside tf.variableGrads would
  // leak the tensors tfjs saved for backprop, and its own assertion does not say what went wrong.
  let bad: string | null = null;
  const scalarLoss = (): tf.Scalar => {
    const v = loss();
    if (v instanceof tf.Tensor && v.rank === 0) return v;
    bad = v instanceof tf.Tensor ? `shape [${v.shape.join(',')}]` : describeValue(v);
    return tf.mul(tf.addN(vars.map((p) => tf.sum(p))), 0) as tf.Scalar;
  };
  const { value, grads } = tf.variableGrads(scalarLoss, vars);
  try {
    if (bad !== null) {
      throw new TypeError(`trainStep(loss): expected loss() to return a scalar tensor, got ${bad}`);
    }
    let gradNorm: number;
    if (opts.clipNorm !== undefined) {
      const clipped = clipGradNorm(grads, opts.clipNorm);
      gradNorm = clipped.totalNorm;
      optimizer.applyGradients(clipped.grads);
      tf.dispose(clipped.grads);
    } else {
      gradNorm = globalNorm(grads);
      optimizer.applyGradients(grads);
    }
    return { loss: value.dataSync()[0], gradNorm };
  } finally {
    tf.dispose([value, ...Object.values(grads)]);
  }
}

/** A recurrent state carried between chunks: one tensor or several (e.g. LSTM [h, c]). */
export type CarriedState = tf.Tensor | tf.Tensor[];

/**
 * One step of truncated BPTT over a long stream: `chunk(state)` runs the next k steps from the
 * carried state and returns their loss and the new state. Gradients flow through this chunk only
 * (the incoming state is a constant: "detached"). Takes ownership of `state` (disposed here) and
 * returns the new state, which the caller passes to the next chunk.
 */
export function trainChunk<S extends CarriedState>(
  model: Module,
  state: S,
  chunk: (state: S) => { loss: tf.Scalar; state: S },
  optimizer: tf.Optimizer,
  opts: TrainStepOptions = {},
): { loss: number; gradNorm: number; state: S } {
  if (typeof chunk !== 'function') {
    throw new TypeError(
      `trainChunk(chunk): expected a function (state) => { loss, state }, got ${describeValue(chunk)}`,
    );
  }
  let next: S | null = null;
  const result = trainStep(
    model,
    () => {
      const out = chunk(state);
      if (out === null || typeof out !== 'object' || !(out.loss instanceof tf.Tensor)) {
        throw new TypeError(
          `trainChunk(chunk): expected chunk to return { loss, state }, got ${describeValue(out)}`,
        );
      }
      next = out.state;
      // Leave the gradient tape's tidy alive: the new state is the next chunk's (constant) input.
      for (const t of ([] as tf.Tensor[]).concat(out.state)) tf.keep(t);
      return out.loss;
    },
    optimizer,
    opts,
  );
  if (next === null) throw new TypeError('trainChunk(chunk): chunk returned no state');
  tf.dispose(state);
  return { ...result, state: next };
}
