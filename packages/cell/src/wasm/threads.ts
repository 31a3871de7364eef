import { enginePolicy } from '../policy.js';
import { type KernelExports, loadKernel, sharedModules } from './loader.js';
import { type Fn, ThreadPool } from './pool.js';
import { hardwareThreads } from './workers.js';

/**
 * How many threads the kernel uses and how a call is split among them: the pool's lifecycle,
 * the threads asked for, and the split of rows into per-thread ranges.
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
 * Splits rows [0, M) into one range per thread for a call of `work` multiply-adds: ranges of a
 * multiple of 4 rows (the sgemm's blocks), none under `enginePolicy.minParallelWork`; one range
 * when small. Starts the workers (for later calls) the first time a call is large enough.
 */
export function ranges(M: number, work: number): Array<[number, number]> {
  const minWork = enginePolicy.minParallelWork;
  if (work < 2 * minWork || M < 8) return [[0, M]];
  if (!pool) {
    if (!starting) void startPool();
    return [[0, M]];
  }
  const n = Math.min(kernelThreads(), Math.floor(work / minWork), Math.floor(M / 4));
  if (n < 2) return [[0, M]];
  const step = Math.ceil(M / n / 4) * 4;
  const out: Array<[number, number]> = [];
  for (let r0 = 0; r0 < M; r0 += step) out.push([r0, Math.min(r0 + step, M)]);
  return out;
}

/** Runs export `fn` once per argument block in `blocks` (one per range of `ranges`), at once. */
export function runShares(k: KernelExports, fn: Fn, blocks: number[]): void {
  if (blocks.length === 1) k[fn](blocks[0]!);
  else pool!.run(k, fn, blocks);
}
