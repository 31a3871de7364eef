import { threadMayBlock } from './wasm/workers.js';

/**
 * The engine's switches, for comparisons, benchmarks and tests: the one place that forces the plain
 * JS path or changes when a kernel call is split across threads. Exported through
 * '@rnnkit/cell/internal' only; the user API is `initKernel` and `setKernelThreads`.
 */
export interface EnginePolicy {
  /** False: every call runs the plain JS path, even where the WebAssembly kernel is ready. @default true */
  kernel: boolean;
  /**
   * Multiply-adds each thread's share of a split kernel call must reach. @default 2 ** 16 where
   * the calling thread may block (Node, a worker: a few µs of work on one core; a worker still
   * polling after its last share (`spinMicros`) takes the next one within a microsecond, one that
   * has to be woken takes tens, and the calling thread runs the shares no worker has taken yet),
   * 2 ** 21 on a browser's main thread (which polls through every wait: splitting small calls
   * there measured no faster in Chromium on a busy 2-core machine, the RNN tutorial slower)
   */
  minParallelWork: number;
  /**
   * Multiply-adds each thread's share of one step must reach for a recurrence of fewer than 8
   * sequences to split its hidden units across threads (they share chunks of every step and wait
   * for its last: about a microsecond per step when every thread has a core). @default 2 ** 17
   * (an RNN of hidden size 256 over 2 sequences, 2 ** 17 per step, measured faster unsplit)
   */
  minStepWork: number;
  /**
   * Microseconds a kernel worker keeps polling for its next share after one before it blocks, and
   * a calling thread that may block polls for a worker's share before it does: a share that comes
   * (or ends) within it costs no wake-up (tens of microseconds in Node, more in a browser, as long
   * as a whole decode step). @default 200
   */
  spinMicros: number;
  /**
   * Most bytes of WebAssembly memory a kernel call may reach; a call that needs more throws a
   * KernelError. @default 2 ** 32 (4 GiB: all that 32-bit WebAssembly can address)
   */
  maxKernelBytes: number;
  /**
   * Where the runtime has relaxed SIMD, use the kernel's relaxed build (fused multiply-add in the
   * products: each product term rounded once instead of twice, so results differ from the plain
   * build's in the last bits; identical across thread counts either way). False: the plain SIMD
   * build. @default true
   */
  relaxedSimd: boolean;
}

/** The defaults, to restore the policy after changing it. */
export const ENGINE_DEFAULTS: Readonly<EnginePolicy> = Object.freeze({
  kernel: true,
  minParallelWork: threadMayBlock() ? 1 << 16 : 1 << 21,
  minStepWork: 1 << 12,
  spinMicros: 200,
  maxKernelBytes: 2 ** 32,
  relaxedSimd: true,
});

/** The policy in force (read at every call). */
export const enginePolicy: EnginePolicy = { ...ENGINE_DEFAULTS };
