import { enginePolicy } from '../policy.js';
import { type Args, argBytes, FORWARD_ARGS, SGEMM_ARGS, writeArgs } from './args.js';
import type { KernelExports } from './loader.js';
import type { Arena } from './memory.js';
import type { Fn } from './pool.js';
import { threadsFor } from './threads.js';
import { threadMayBlock } from './workers.js';

/**
 * How a kernel call is split among threads (`threadsFor` of threads.ts: how many): a product's
 * rows or columns, a recurrence's batch, its hidden units, or its input projection run ahead.
 */

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

/**
 * Steps per chunk of an input projection run ahead of its recurrence: 64 rows (one panel of the
 * product) or more, so that a call has at most MAX_AHEAD_CHUNKS chunks.
 */
const AHEAD_ROWS = 64;
const MAX_AHEAD_CHUNKS = 4096;

/**
 * Projector threads for the input projection (`work` multiply-adds) of a recurrence of B sequences
 * over T steps that runs on one thread: they project chunks of `steps` steps while it runs, and it
 * waits for a chunk only when it gets there first (assembly/ahead.ts). None when
 * `enginePolicy.projectAhead` is false, when the projection would not split
 * (`enginePolicy.minParallelWork`), or when the call has fewer than 4 chunks (the first, which
 * the recurrence runs itself while the projectors start, would be most of it).
 */
export function aheadShares(
  T: number,
  B: number,
  work: number,
): { projectors: number; steps: number } {
  const steps = Math.max(Math.ceil(AHEAD_ROWS / B), Math.ceil(T / MAX_AHEAD_CHUNKS));
  const projectors = enginePolicy.projectAhead && T >= 4 * steps ? threadsFor(work) - 1 : 0;
  return projectors > 0 ? { projectors, steps } : { projectors: 0, steps: 0 };
}

/** The fields of a recurrence's block that share it among threads; their values on one thread. */
type ShareField =
  | 'unitChunk'
  | 'stateChunk'
  | 'parties'
  | 'party'
  | 'sync'
  | 'syncBytes'
  | 'blocking'
  | 'tile'
  | 'hNext'
  | 'ahead'
  | 'aheadSteps';
const ONE: Args<ShareField[]> = {
  unitChunk: 0,
  stateChunk: 0,
  parties: 0,
  party: 0,
  sync: 0,
  syncBytes: 0,
  blocking: 0,
  tile: 0,
  hNext: 0,
  ahead: 0,
  aheadSteps: 0,
};

/** A recurrence's argument blocks, one per share, and how to run them (`runShares`). */
export interface ForwardShares {
  blocks: number[];
  /** The shares meet through a control block (zeroed before each run, so a layout may run again) */
  together: boolean;
  /** The export the shares after the first run: 'projectAhead' when they project its input */
  posted: Fn;
}

/**
 * Writes the argument blocks of one recurrence call (`args` for the whole batch, FORWARD_ARGS),
 * one per thread, in `mem`: ranges of the batch (`ranges`), or for fewer than 8 sequences threads
 * sharing the chunks of every step's columns (`columnShares`); else, given the whole input
 * projection still to run (`projection`, the fields of its SGEMM_ARGS block), projectors running
 * it ahead of the recurrence on one thread (`aheadShares`; `posted` is then 'projectAhead', and
 * the caller runs no projection of its own); one block when small.
 */
export function forwardShares(
  k: KernelExports,
  mem: Arena,
  args: Omit<Args<typeof FORWARD_ARGS>, ShareField>,
  projection: Args<typeof SGEMM_ARGS> | null,
): ForwardShares {
  const { T, B, H, S, G } = args;
  let parts: Array<Partial<Args<typeof FORWARD_ARGS>>> = ranges(B, T * B * G * S).map(
    ([b0, b1]) => ({ b0, b1 }),
  );
  const { parties, unitChunk, stateChunk } = columnShares(B, T, H, G, S);
  const { projectors, steps } =
    parties < 2 && parts.length === 1 && projection
      ? aheadShares(T, B, projection.M * projection.N * projection.K)
      : { projectors: 0, steps: 0 };
  if (parties > 1) {
    // The chunks' control block (assembly/barrier.ts): two cache lines per chunk of the stage
    // with the most (H hidden units in chunks of unitChunk, S state columns of stateChunk).
    const syncBytes = 128 * Math.max(Math.ceil(H / unitChunk), Math.ceil(S / stateChunk));
    const sync = mem.alloc(syncBytes, true);
    const tiles = mem.alloc(8 * parties);
    const hNext = mem.alloc(B * S);
    parts = Array.from({ length: parties }, (_, i) => {
      const blocking = i > 0 || threadMayBlock() ? 1 : 0;
      return {
        unitChunk,
        stateChunk,
        parties,
        party: i,
        sync,
        syncBytes,
        blocking,
        tile: tiles + 32 * i,
        hNext,
      };
    });
  } else if (projectors > 0) {
    // The projection's chunks' control block: two cache lines per chunk.
    const syncBytes = 128 * Math.ceil(T / steps);
    const sync = mem.alloc(syncBytes, true);
    const ahead = mem.alloc(argBytes(SGEMM_ARGS), true);
    writeArgs(k.memory.buffer, ahead, SGEMM_ARGS, projection!);
    const shared = { sync, syncBytes, ahead, aheadSteps: steps };
    parts = Array.from({ length: 1 + projectors }, (_, i) => ({
      ...shared,
      blocking: i > 0 || threadMayBlock() ? 1 : 0,
    }));
  }
  const bytes = argBytes(FORWARD_ARGS);
  const blocks = mem.alloc(parts.length * bytes, true);
  const shares = parts.map((part, i) => {
    writeArgs(k.memory.buffer, blocks + i * bytes, FORWARD_ARGS, part, args, ONE);
    return blocks + i * bytes;
  });
  return {
    blocks: shares,
    together: parties > 1 || projectors > 0,
    posted: projectors > 0 ? 'projectAhead' : 'forward',
  };
}
