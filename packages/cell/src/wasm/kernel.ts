import type * as tf from '@tensorflow/tfjs-core';
import type { Saved } from '../sequence/layout.js';
import { type KernelExports, loadedExports } from './loader.js';
import { gemmSession, project, sumOuter } from './products.js';
import { type KernelInputs, recurrence } from './recurrence.js';

/**
 * The WebAssembly kernel's entry points, once it is loaded: holding this object is what allows a
 * call (sequence/engine.ts hands it out, or null for the JS path). Shapes as in products.ts and
 * recurrence.ts.
 */
export interface Kernel {
  /** x [M, K] W^T + bias -> [M, N], W [N, K] */
  project(
    x: Float32Array,
    M: number,
    K: number,
    w: tf.Tensor,
    N: number,
    bias: Float32Array | null,
  ): Float32Array;
  /** Repeated products by right-hand sides packed once (see products.ts `gemmSession`) */
  gemm(
    rhs: Array<{ b: Float32Array; K: number; N: number }>,
    maxM: number,
  ): (i: number, a: Float32Array, M: number) => Float32Array;
  /** a^T b -> [M, N], a [R, M], b [R, N] */
  sumOuter(a: Float32Array, R: number, M: number, b: Float32Array, N: number): Float32Array;
  /** One direction of one layer over every step: the packed output and, with `save`, BPTT's saved state */
  recurrence(a: KernelInputs, save: boolean): { packed: Float32Array; saved: Saved | null };
}

/** The entry points bound to the kernel's exports `k`. */
const bind = (k: KernelExports): Kernel => ({
  project: (x, M, K, w, N, bias) => project(k, x, M, K, w, N, bias),
  gemm: (rhs, maxM) => gemmSession(k, rhs, maxM),
  sumOuter: (a, R, M, b, N) => sumOuter(k, a, R, M, b, N),
  recurrence: (a, save) => recurrence(k, a, save),
});

let kernel: Kernel | null = null;

/** The loaded kernel's entry points, null until it is loaded (or where it cannot load). */
export function loadedKernel(): Kernel | null {
  const k = loadedExports();
  if (k) kernel ??= bind(k);
  return kernel;
}
