import { KernelError } from '@rnnkit/ops';
import { afterSetBackend } from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';
import { enginePolicy } from '../policy.js';
import { type Kernel, loadedKernel } from '../wasm/kernel.js';
import { initKernel } from '../wasm/threads.js';

/**
 * The one place that decides whether the WebAssembly kernel or the plain JS path runs, and in
 * which layout a sequence runs. Every kernel call starts from `kernel()`: its result is the only
 * way to reach the kernel's entry points.
 */

// `await setBackend(...)` resolves with the kernel loaded and its threads started (initKernel), so
// that a loop that never awaits runs in the kernel, on every thread, from its first call.
afterSetBackend(initKernel);

/** The kernel when it is loaded and allowed (enginePolicy.kernel), else null: the JS path. */
export function kernel(): Kernel | null {
  return enginePolicy.kernel ? loadedKernel() : null;
}

/** True when the recurrent forward and input projection run in the WebAssembly kernel. */
export function kernelReady(): boolean {
  return kernel() !== null;
}

/** True while tfjs records operations for a gradient (inside tf.grad, variableGrads, ...). */
export function tapeOn(): boolean {
  return (tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn();
}

/**
 * True when the gradient being recorded may itself be differentiated (a gradient penalty, a
 * Hessian-vector product): tfjs records a gradient's backward only while an outer gradient's tape
 * is on, and the forward it differentiates then runs with two or more tapes nested. The sequence
 * then runs as plain tfjs ops (`stepwise.ts`), whose gradients tfjs differentiates again; the fused
 * op (`op.ts`) computes its backward on host arrays, which no tape can see.
 */
export function higherOrder(): boolean {
  return (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth > 1;
}

/**
 * The kernel for a whole inference in one call (projection and recurrence, reading and writing
 * either layout as it is): the kernel while no gradient is being recorded, else null.
 */
export function inferenceKernel(): Kernel | null {
  return tapeOn() ? null : kernel();
}

/** True when `runSequence` runs an inference in one kernel call (see `inferenceKernel`). */
export function fusedInference(): boolean {
  return inferenceKernel() !== null;
}

/**
 * Runs `f`, a call of `where` (e.g. "LSTM.forward"); a KernelError from it (e.g. past the kernel's
 * memory limit) is thrown again with `where` in front, so that it names the layer.
 */
export function naming<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (KernelError.isInstance(e) && !(e as Error).message.startsWith(where))
      throw new KernelError(`${where}: ${(e as Error).message}`, { cause: e });
    throw e;
  }
}

/**
 * Runs `run` on x in the layout the engine wants, for one sequence or a whole stack of layers
 * (`run` gets x and whether it is batch-first, and returns the output in that layout). Time-major
 * x [T, B, *] runs as it is; batch-first x [B, T, *] runs as it is with the inference kernel,
 * else transposed to time-major once before `run` and its output back once after (so a
 * differentiable stack of layers transposes once, not per layer).
 */
export function inLayout(
  x: tf.Tensor3D,
  batchFirst: boolean,
  run: (x: tf.Tensor3D, batchFirst: boolean) => tf.Tensor3D,
): tf.Tensor3D {
  if (!batchFirst || inferenceKernel()) return run(x, batchFirst);
  return tf.transpose(run(tf.transpose(x, [1, 0, 2]), false), [1, 0, 2]);
}
