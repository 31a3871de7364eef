/**
 * The engine's switches, for comparisons, benchmarks and tests: the one place that forces the plain
 * JS path or changes when a kernel call is split across threads. Exported through
 * '@rnnkit/cell/internal' only; the user API is `initKernel` and `setKernelThreads`.
 */
export interface EnginePolicy {
  /** False: every call runs the plain JS path, even where the WebAssembly kernel is ready. @default true */
  kernel: boolean;
  /**
   * Multiply-adds each thread's share of a split kernel call must reach. @default 2 ** 16 (a few
   * µs of work on one core; a worker still polling after its last share (`spinMicros`) takes the
   * next one within a microsecond, one that has to be woken takes tens, and the calling thread
   * runs the shares no worker has taken yet; in Chromium the LSTM tutorial and decode step
   * measured 1.2-1.6x faster than with 2 ** 21, and no case slower)
   */
  minParallelWork: number;
  /**
   * Multiply-adds each thread's share of one step must reach for a recurrence of fewer than 8
   * sequences to split its hidden units across threads (each runs its chunk of every step, then
   * waits for the others': a cache line's trip between cores, about 0.1 µs, when every thread has
   * a core). @default 2 ** 15 (the decode steps and the tutorial, 2 ** 16 and more per thread,
   * split; an LSTM of hidden size 64 over one sequence, 2 ** 13, ran 1.2x faster in Node on one
   * thread with its input projected ahead (`projectAhead`) than split, and up to 1.5x slower split
   * than unsplit in Chromium)
   */
  minStepWork: number;
  /**
   * A recurrence that runs on one thread has its input projection run meanwhile by the others, in
   * chunks of steps it waits for only when it gets there first, instead of split among all the
   * threads before it (assembly/ahead.ts). @default true (LSTM and GRU of hidden size 64 over
   * 10,000 steps of one sequence, input size 32, on 2 threads: 1.10-1.17x in Chromium, 1.12-1.13x
   * in Node)
   */
  projectAhead: boolean;
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
  minParallelWork: 1 << 16,
  minStepWork: 1 << 15,
  projectAhead: true,
  spinMicros: 200,
  maxKernelBytes: 2 ** 32,
  relaxedSimd: true,
});

/** The policy in force (read at every call). */
export const enginePolicy: EnginePolicy = { ...ENGINE_DEFAULTS };
