import * as tf from '@tensorflow/tfjs-core';
import { clipGradNorm, globalNorm } from './clip.js';
import { connectedZero } from './connected-zeros.js';
import { ensureGradients } from './gradients.js';
import { assertTensor, checkOptions, describeValue } from './guards.js';
import type { Module } from './module.js';

/** Options of {@link trainStep} and {@link trainChunk}. */
export interface TrainStepOptions {
  /**
   * Clip the global gradient norm to this value before the update (clip_grad_norm_).
   * @default no clipping
   */
  clipNorm?: number;
}

/**
 * One step of backpropagation through time: gradients of `loss()` with respect to every parameter
 * of `model`, optional clipping, then `optimizer.applyGradients`. Leaves no tensors behind.
 * Returns the loss and the gradient norm before clipping. Registers tfjs's gradients on first use.
 * @example
 * ```ts
 * const opt = tf.train.adam(1e-3);
 * const { loss } = trainStep(model, () => mseLoss(model.forward(x), y), opt, { clipNorm: 1 });
 * ```
 */
export function trainStep(
  model: Module,
  loss: () => tf.Scalar,
  optimizer: tf.Optimizer,
  opts: TrainStepOptions = {},
): {
  /** The loss before the update. */
  loss: number;
  /** The global L2 norm of the gradients, before clipping. */
  gradNorm: number;
} {
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
  const clipNorm = opts.clipNorm;
  if (
    clipNorm !== undefined &&
    (typeof clipNorm !== 'number' || !(clipNorm > 0) || !Number.isFinite(clipNorm))
  ) {
    throw new RangeError(
      `trainStep({ clipNorm }): expected a positive finite number, got ${describeValue(clipNorm)}`,
    );
  }
  ensureGradients();
  // frozen parameters (e.g. Embedding.fromPretrained) are not trained; a tied one is listed once
  const vars = model.parameters().filter((v) => v.trainable);
  if (vars.length === 0) {
    throw new TypeError('trainStep(model): expected at least one trainable parameter, got none');
  }
  // A non-scalar loss, or an error thrown by loss(), is reported after the backward pass: throwing
  // inside tf.variableGrads would leak the tensors tfjs saved for backprop, and its own assertion
  // does not say what went wrong.
  const failure: { threw: boolean; error?: unknown; bad?: string } = { threw: false };
  const scalarLoss = (): tf.Scalar => {
    let v: unknown;
    try {
      v = loss();
    } catch (e) {
      failure.threw = true;
      failure.error = e;
    }
    if (!failure.threw) {
      if (v instanceof tf.Tensor && v.rank === 0 && v.dtype === 'float32') return v as tf.Scalar;
      if (!(v instanceof tf.Tensor)) failure.bad = describeValue(v);
      else if (v.rank !== 0) failure.bad = `shape [${v.shape.join(',')}]`;
      else
        failure.bad = `a ${v.dtype} scalar (an integer loss has no gradient: compute it in float32)`;
    }
    return connectedZero(vars);
  };
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
  try {
    // in a tidy, so the loss value is freed when tfjs rejects it
    result = tf.tidy(() => tf.variableGrads(scalarLoss, vars));
  } catch (e) {
    if (e instanceof Error && /Cannot find a connection between any variable/.test(e.message)) {
      throw new TypeError(
        `trainStep(loss): expected loss() to depend on the model's parameters, got a loss with no path to any of its ${vars.length} parameters (use the model inside loss())`,
      );
    }
    throw e;
  }
  const { value, grads } = result;
  try {
    if (failure.threw) throw failure.error;
    if (failure.bad !== undefined) {
      throw new TypeError(
        `trainStep(loss): expected loss() to return a scalar tensor (float32), got ${failure.bad}`,
      );
    }
    let gradNorm: number;
    if (clipNorm !== undefined) {
      const clipped = clipGradNorm(grads, clipNorm);
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
): {
  /** The chunk's loss before the update. */
  loss: number;
  /** The global L2 norm of the gradients, before clipping. */
  gradNorm: number;
  /** The state after the chunk, for the next one. */
  state: S;
} {
  checkOptions(opts, 'trainChunk', ['clipNorm']);
  if (typeof chunk !== 'function') {
    throw new TypeError(
      `trainChunk(chunk): expected a function (state) => { loss, state }, got ${describeValue(chunk)}`,
    );
  }
  checkState(state, (i) => `trainChunk(state${i})`);
  let next: S | null = null;
  let result: { loss: number; gradNorm: number };
  try {
    result = trainStep(
      model,
      () => {
        const out = chunk(state);
        if (out === null || typeof out !== 'object' || !(out.loss instanceof tf.Tensor)) {
          throw new TypeError(
            `trainChunk(chunk): expected chunk to return { loss, state }, got ${describeValue(out)}`,
          );
        }
        checkState(out.state, (i) => `trainChunk(chunk): the returned state${i}`);
        next = out.state;
        // Leave the gradient tape's tidy alive: the new state is the next chunk's (constant) input.
        for (const t of ([] as tf.Tensor[]).concat(out.state)) tf.keep(t);
        return out.loss;
      },
      optimizer,
      opts,
    );
  } catch (e) {
    // the caller still owns `state`; a new state made before the failure is freed
    if (next !== null) tf.dispose(next as CarriedState);
    throw e;
  }
  tf.dispose(state);
  return { ...result, state: next! };
}

/** Throws unless `state` is a live tensor or an array of live tensors; `arg('[i]')` names one. */
function checkState(state: unknown, arg: (index: string) => string): void {
  if (Array.isArray(state)) {
    state.forEach((t, i) => {
      assertTensor(t, arg(`[${i}]`));
    });
  } else if (state instanceof tf.Tensor) {
    assertTensor(state, arg(''));
  } else {
    throw new TypeError(
      `${arg('')}: expected a tf.Tensor or an array of tensors, got ${describeValue(state)}`,
    );
  }
}
