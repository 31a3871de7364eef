import { layOutStep } from './decode.js';
import { type KernelExports, loadedExports } from './loader.js';
import { batchGemm, gemmSession, project, sumOuter } from './products.js';
import { recurrence } from './recurrence.js';

/** A function F of products.ts, recurrence.ts or decode.ts without its first parameter (the kernel's exports). */
type Bound<F> = F extends (k: KernelExports, ...args: infer A) => infer R
  ? (...args: A) => R
  : never;

/**
 * The WebAssembly kernel's entry points, once it is loaded: holding this object is what allows a
 * call (sequence/engine.ts hands it out, or null for the JS path).
 */
export interface Kernel {
  /** x [M, K] W^T + bias -> [M, N] (products.ts) */
  project: Bound<typeof project>;
  /** Repeated products by right-hand sides packed once (products.ts `gemmSession`) */
  gemm: Bound<typeof gemmSession>;
  /** a^T b -> [M, N], a [R, M], b [R, N] (products.ts) */
  sumOuter: Bound<typeof sumOuter>;
  /** a[i] (or a[i]^T) x b[i] (or b[i]^T) for every i of a batch -> [batch, M, N] (products.ts) */
  batchGemm: Bound<typeof batchGemm>;
  /** One direction of one layer over every step (recurrence.ts) */
  recurrence: Bound<typeof recurrence>;
  /** A decoder step laid out to run for every step of a decode (decode.ts) */
  decodeStep: Bound<typeof layOutStep>;
}

/** The entry points bound to the kernel's exports `k`. */
const bind = (k: KernelExports): Kernel => ({
  project: (x, M, K, w, N, bias) => project(k, x, M, K, w, N, bias),
  gemm: (rhs, maxM) => gemmSession(k, rhs, maxM),
  sumOuter: (a, R, M, b, N) => sumOuter(k, a, R, M, b, N),
  batchGemm: (a, b, batch, M, K, N, transposeB, transposeA) =>
    batchGemm(k, a, b, batch, M, K, N, transposeB, transposeA),
  recurrence: (a, save) => recurrence(k, a, save),
  decodeStep: (d) => layOutStep(k, d),
});

/** Entry points by the exports of the build they call (loader.ts `kernelBuild`). */
const kernels = new WeakMap<KernelExports, Kernel>();

/** The loaded kernel's entry points (of the build in use), null until it is loaded (or where it cannot load). */
export function loadedKernel(): Kernel | null {
  const k = loadedExports();
  if (!k) return null;
  const known = kernels.get(k);
  if (known) return known;
  const kernel = bind(k);
  kernels.set(k, kernel);
  return kernel;
}
