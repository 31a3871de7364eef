import { enginePolicy } from '../policy.js';
import { FORWARD_ARGS } from './args.js';
import { type KernelExports, loadKernel, sharedModules } from './loader.js';
import { type Fn, ThreadPool } from './pool.js';
import { hardwareThreads } from './workers.js';

/**
 * How many threads the kernel uses: the pool's lifecycle, the threads asked for, how many a call
 * of some size may use (shares.ts splits it), and running a split call's shares.
 */

/** Threads asked for (null: the default, this machine's threads up to DEFAULT_MAX). */
let wanted: number | null = null;
/** The threads a call uses: `wanted`, or the default once the machine's threads are known. */
let target = 1;
let pool: ThreadPool | null = null;
let starting: Promise<void> | null = null;
const DEFAULT_MAX = 4;

/** The most threads `setKernelThreads` accepts: twice this machine's threads, at least 8. */
const limit = async () => Math.max(2 * (await hardwareThreads()), 8);

/**
 * Sets how many threads the kernel may use for one large call (`n` an integer from 1 to twice this
 * machine's threads, at least 8; omitted: this machine's threads, at most 4),
 * starts the worker threads it needs and stops those it no longer needs; resolves to the number of
 * threads in use, 1 where threads are unavailable (no SharedArrayBuffer, a page that is not
 * cross-origin isolated, no kernel). Without a call, workers start on the first call large enough
 * to gain. Results do not depend on the number of threads: every row is computed the same way.
 */
export async function setKernelThreads(n?: number): Promise<number> {
  if (n !== undefined && !(Number.isInteger(n) && n >= 1))
    throw new RangeError(
      `setKernelThreads(n): expected an integer >= 1, got ${typeof n === 'number' ? n : typeof n}`,
    );
  const max = await limit();
  if (n !== undefined && n > max)
    throw new RangeError(
      `setKernelThreads(n): expected at most ${max} threads (this machine runs ${await hardwareThreads()} at once; more only wait for a core, each holding a worker), got ${n}`,
    );
  wanted = n ?? null;
  await startPool();
  return kernelThreads();
}

/** Threads a large kernel call uses now: 1 until the workers have started. */
export function kernelThreads(): number {
  return pool ? Math.min(pool.size, target) : 1;
}

/** Workers running now (threads besides the calling one), for tests and soak runs. */
export const kernelWorkers = (): number => (pool ? pool.size - 1 : 0);

/**
 * Loads the WebAssembly kernel and starts its worker threads (this machine's threads, at most 4,
 * unless `setKernelThreads` asked otherwise); resolves true once the kernel is in use, with its
 * threads ready, so that even a loop that never awaits runs large calls on every thread. Resolves
 * false where WebAssembly or its SIMD is unavailable: the cells then keep their plain JS path.
 * Loading starts when this package loads; threads otherwise start on the first large call, and a
 * synchronous loop would then run on one thread. Idempotent.
 */
export async function initKernel(): Promise<boolean> {
  if (!(await loadKernel())) return false;
  await startPool();
  return true;
}

/** Starts, grows or shrinks the pool to the threads wanted (`restart`: on a fresh memory). */
function startPool(restart = false): Promise<void> {
  const prev = starting ?? Promise.resolve();
  starting = (async () => {
    await prev;
    const shared = (await loadKernel()) ? sharedModules() : null;
    if (!shared) return;
    try {
      target = wanted ?? Math.min(await hardwareThreads(), DEFAULT_MAX);
      const count = target - 1;
      if (!restart && (pool?.size ?? 1) - 1 === count) return;
      pool?.close();
      pool = null;
      const { modules, memory, exports } = shared;
      const started = await ThreadPool.start(exports, modules, memory, count);
      // The kernel's memory was replaced meanwhile (releaseKernelMemory): the next start, chained
      // after this one, starts workers on the new memory.
      if (sharedModules()?.memory === shared.memory) pool = started;
      else started?.close();
    } catch {
      // No threads here after all (e.g. a runtime that forbids workers): one thread, as before.
      pool = null;
    }
  })();
  return starting;
}

/**
 * Stops the workers at once (synchronously: they run on a memory being replaced) and, if there
 * were any, starts as many on the kernel's memory as it is once `whenSwapped` resolves.
 */
export function restartPool(whenSwapped: Promise<unknown>): Promise<void> {
  const had = pool !== null;
  pool?.close();
  pool = null;
  const prev = starting ?? Promise.resolve();
  starting = Promise.all([prev, whenSwapped]).then(() => {});
  return had ? startPool(true) : starting;
}

/**
 * Threads a split call of `work` multiply-adds may use: each share at least
 * `enginePolicy.minParallelWork`; 1 when small. Starts the workers (for later calls) the first
 * time a call is large enough.
 */
export function threadsFor(work: number): number {
  const minWork = enginePolicy.minParallelWork;
  if (work < 2 * minWork) return 1;
  if (!pool) {
    if (!starting) void startPool();
    return 1;
  }
  return Math.min(kernelThreads(), Math.floor(work / minWork));
}

/** Word offsets of the fields runShares reads from a recurrence's argument block. */
const [SYNC_AT, SYNC_BYTES_AT] = (['sync', 'syncBytes'] as const).map((f) =>
  FORWARD_ARGS.indexOf(f),
);

/**
 * Runs export `fn` once per argument block in `blocks` (one per share), at once, the shares after
 * the first running `posted`; `together`: the shares of a recurrence that meet through a control
 * block, zeroed first (so that a layout may run again, replay.ts).
 */
export function runShares(
  k: KernelExports,
  fn: Fn,
  blocks: number[],
  together = false,
  posted: Fn = fn,
): void {
  if (blocks.length === 1) {
    k[fn](blocks[0]!);
    return;
  }
  if (together) {
    const w = new Uint32Array(k.memory.buffer, blocks[0]!, FORWARD_ARGS.length);
    new Uint8Array(k.memory.buffer, w[SYNC_AT]!, w[SYNC_BYTES_AT]!).fill(0);
  }
  pool!.spinMicros = enginePolicy.spinMicros;
  pool!.run(k, fn, blocks, posted);
}
