import { enginePolicy } from '../policy.js';
import { type Args, argBytes, FORWARD_ARGS, writeArgs } from './args.js';
import { type KernelExports, loadKernel, sharedModules } from './loader.js';
import type { Arena } from './memory.js';
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
 * Threads a split call of `work` multiply-adds may use: each share at least
 * `enginePolicy.minParallelWork`; 1 when small. Starts the workers (for later calls) the first
 * time a call is large enough.
 */
function threadsFor(work: number): number {
  const minWork = enginePolicy.minParallelWork;
  if (work < 2 * minWork) return 1;
  if (!pool) {
    if (!starting) void startPool();
    return 1;
  }
  return Math.min(kernelThreads(), Math.floor(work / minWork));
}

/** [0, n) cut into at most `parts` ranges of a multiple of `unit` (the last one may be shorter). */
function cut(n: number, parts: number, unit: number): Array<[number, number]> {
  const step = Math.ceil(n / parts / unit) * unit;
  const out: Array<[number, number]> = [];
  for (let r0 = 0; r0 < n; r0 += step) out.push([r0, Math.min(r0 + step, n)]);
  return out.length ? out : [[0, n]];
}

/**
 * Splits rows [0, M) into one range per thread for a call of `work` multiply-adds: ranges of a
 * multiple of 4 rows (the sgemm's blocks), none under `enginePolicy.minParallelWork`; one range
 * when small or M < 8.
 */
export function ranges(M: number, work: number): Array<[number, number]> {
  if (M < 8) return [[0, M]];
  return cut(M, Math.min(threadsFor(work), Math.floor(M / 4)), 4);
}

/** A product's share: rows r0 <= i < r1 and columns j0 <= j < j1. */
export interface Share {
  r0: number;
  r1: number;
  j0: number;
  j1: number;
}

/**
 * The shares of a product c [M, N] of `work` multiply-adds: by rows (`ranges`) when M >= 8, else
 * by strips of 8 columns (at most one thread per strip), none under `enginePolicy.minParallelWork`.
 */
export function productShares(M: number, N: number, work: number): Share[] {
  if (M >= 8) return ranges(M, work).map(([r0, r1]) => ({ r0, r1, j0: 0, j1: N }));
  const n = Math.min(threadsFor(work), Math.ceil(N / 8));
  return cut(N, n, 8).map(([j0, j1]) => ({ r0: 0, r1: M, j0, j1 }));
}

/**
 * How a recurrence of B < 8 sequences over T steps shares its columns among threads (G = gates * H,
 * S the state's size): `parties` threads (1: not split), each owning a chunk of `unitChunk` hidden
 * units (a multiple of 8) of every step, and with an LSTM projection of `stateChunk` columns of S
 * (one chunk per thread: a thread late to a step, or to the call, has its chunk run by another,
 * assembly/barrier.ts). Split when each thread's share of a step reaches
 * `enginePolicy.minStepWork` multiply-adds and its share of the call `enginePolicy.minParallelWork`.
 */
export function columnShares(
  B: number,
  T: number,
  H: number,
  G: number,
  S: number,
): { parties: number; unitChunk: number; stateChunk: number } {
  const step = B * G * S;
  const n =
    B >= 8
      ? 1
      : Math.min(
          threadsFor(T * step),
          Math.ceil(H / 8),
          Math.floor(step / enginePolicy.minStepWork),
        );
  const chunk = (size: number) => Math.ceil(size / n / 8) * 8;
  return n < 2
    ? { parties: 1, unitChunk: 0, stateChunk: 0 }
    : { parties: n, unitChunk: chunk(H), stateChunk: chunk(S) };
}

/** The fields of a recurrence's block that split its columns, and their values on one thread. */
type ColumnField =
  | 'unitChunk'
  | 'stateChunk'
  | 'parties'
  | 'party'
  | 'sync'
  | 'blocking'
  | 'tile'
  | 'hNext';
const ONE: Args<ColumnField[]> = {
  unitChunk: 0,
  stateChunk: 0,
  parties: 0,
  party: 0,
  sync: 0,
  blocking: 0,
  tile: 0,
  hNext: 0,
};

/** Word offsets of the fields runShares reads from a recurrence's argument block. */
const [H_AT, S_AT, UNIT_AT, STATE_AT, SYNC_AT] = (
  ['H', 'S', 'unitChunk', 'stateChunk', 'sync'] as const
).map((f) => FORWARD_ARGS.indexOf(f));
/**
 * Bytes of the chunks' control block (assembly/barrier.ts): two cache lines per chunk of the
 * stage with the most (H hidden units in chunks of unitChunk, S state columns of stateChunk).
 */
const syncBytes = (H: number, unitChunk: number, S: number, stateChunk: number) =>
  128 * Math.max(Math.ceil(H / unitChunk), Math.ceil(S / stateChunk));

/**
 * Writes the argument blocks of one recurrence call (`args` for the whole batch, FORWARD_ARGS),
 * one per thread, in `mem`: ranges of the batch (`ranges`), or for fewer than 8 sequences threads
 * sharing the chunks of every step's columns (`columnShares`; `together`: their control block is
 * reset before each run, see runShares); one block when small. Run them with
 * `runShares(k, 'forward', blocks, together)`.
 */
export function forwardShares(
  k: KernelExports,
  mem: Arena,
  args: Omit<Args<typeof FORWARD_ARGS>, ColumnField>,
): { blocks: number[]; together: boolean } {
  const { T, B, H, S, G } = args;
  let parts: Array<Partial<Args<typeof FORWARD_ARGS>>> = ranges(B, T * B * G * S).map(
    ([b0, b1]) => ({ b0, b1 }),
  );
  const { parties, unitChunk, stateChunk } = columnShares(B, T, H, G, S);
  if (parties > 1) {
    // The chunks' control block (assembly/barrier.ts), on cache lines of its own.
    const sync = mem.alloc(syncBytes(H, unitChunk, S, stateChunk), true);
    const tiles = mem.alloc(8 * parties);
    const hNext = mem.alloc(B * S);
    parts = Array.from({ length: parties }, (_, i) => {
      const blocking = i > 0 || pool!.blocking ? 1 : 0;
      return {
        unitChunk,
        stateChunk,
        parties,
        party: i,
        sync,
        blocking,
        tile: tiles + 32 * i,
        hNext,
      };
    });
  }
  const bytes = argBytes(FORWARD_ARGS);
  const blocks = mem.alloc(parts.length * bytes, true);
  const shares = parts.map((part, i) => {
    writeArgs(k.memory.buffer, blocks + i * bytes, FORWARD_ARGS, part, args, ONE);
    return blocks + i * bytes;
  });
  return { blocks: shares, together: parties > 1 };
}

/**
 * Runs export `fn` once per argument block in `blocks` (one per share), at once; `together`: the
 * shares of a recurrence split by columns, whose control block is zeroed first (so that a layout
 * may run again, replay.ts).
 */
export function runShares(k: KernelExports, fn: Fn, blocks: number[], together = false): void {
  if (blocks.length === 1) {
    k[fn](blocks[0]!);
    return;
  }
  if (together) {
    const w = new Uint32Array(k.memory.buffer, blocks[0]!, FORWARD_ARGS.length);
    const size = syncBytes(w[H_AT]!, w[UNIT_AT]!, w[S_AT]!, w[STATE_AT]!);
    new Uint8Array(k.memory.buffer, w[SYNC_AT]!, size).fill(0);
  }
  pool!.spinMicros = enginePolicy.spinMicros;
  pool!.run(k, fn, blocks);
}
