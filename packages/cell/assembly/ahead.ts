// AssemblyScript: a recurrence's input projection (x W_ih^T + b_ih) run ahead of it on other
// threads (recurrence.ts). The projection is cut into chunks of `aheadSteps` steps, numbered in the
// order the recurrence takes its steps; projector threads (`projectAhead`) take the chunks in
// order, each the next that no thread has taken yet (barrier.ts, all in stage 0), and the
// recurrence, before its first step of a chunk, waits for it or runs it itself when no projector
// has taken it yet (one late to the call, or descheduled). So the recurrence, latency-bound, runs
// while the projection's throughput-bound product is done beside it, and never waits for a thread
// that is away. Which thread runs a chunk does not change its result (sgemm.ts).
import {
  FORWARD_B,
  FORWARD_T,
  FORWARD_ahead,
  FORWARD_aheadSteps,
  FORWARD_batchFirst,
  FORWARD_reverse,
  FORWARD_sync,
  SGEMM_K,
  SGEMM_N,
  SGEMM_a,
  SGEMM_b,
  SGEMM_bias,
  SGEMM_c,
} from './args';
import { finish, isDone, take, waitFor } from './barrier';
import { sgemm } from './sgemm';

/** Chunks of the projection of a recurrence's block at `args`. */
@inline
function chunks(args: usize): i32 {
  const steps = load<i32>(args + FORWARD_aheadSteps);
  return (load<i32>(args + FORWARD_T) + steps - 1) / steps;
}

/**
 * Chunk j of the projection whose sgemm block (the whole product: M = T * B rows of x [T, B, I],
 * or [B, T, I] when `batchFirst`) is at the recurrence's field `ahead`: the rows of its steps.
 */
function project(args: usize, j: i32): void {
  const T = load<i32>(args + FORWARD_T);
  const B = load<i32>(args + FORWARD_B);
  const steps = load<i32>(args + FORWARD_aheadSteps);
  const p = <usize>load<u32>(args + FORWARD_ahead);
  const N = load<i32>(p + SGEMM_N);
  const K = load<i32>(p + SGEMM_K);
  const a = <usize>load<u32>(p + SGEMM_a);
  const b = <usize>load<u32>(p + SGEMM_b);
  const bias = <usize>load<u32>(p + SGEMM_bias);
  const c = <usize>load<u32>(p + SGEMM_c);
  const s0 = j * steps;
  const s1 = min(s0 + steps, T);
  const t0 = load<i32>(args + FORWARD_reverse) ? T - s1 : s0;
  const n = s1 - s0;
  // Rows of [B, T, *]: n at b * T + t0 for every b; of [T, B, *]: n * B from t0 * B.
  const batchFirst = load<i32>(args + FORWARD_batchFirst) != 0 && B > 1;
  const runs = batchFirst ? B : 1;
  for (let r = 0; r < runs; r++) {
    const row = <usize>(batchFirst ? r * T + t0 : t0 * B);
    sgemm(batchFirst ? n : n * B, N, K, a + row * (<usize>K << 2), b, bias, c + row * (<usize>N << 2), 0, N, 0);
  }
}

/** A projector's share of the recurrence at `args`: every chunk not yet taken, in order. */
export function projectAhead(args: usize): void {
  const sync = <usize>load<u32>(args + FORWARD_sync);
  const n = chunks(args);
  for (let j = 0; j < n; j++) {
    if (!take(sync, j, 0)) continue;
    project(args, j);
    finish(sync, j, 0);
  }
}

/**
 * Returns once chunk j of the projection is done, running it here when no projector has taken it
 * (`blocking`: this thread may block while it waits, barrier.ts).
 */
export function projected(args: usize, j: i32, blocking: bool): void {
  const sync = <usize>load<u32>(args + FORWARD_sync);
  while (!isDone(sync, j, 0)) {
    if (waitFor(sync, j, 0, true, blocking)) return;
    if (take(sync, j, 0)) {
      project(args, j);
      finish(sync, j, 0);
      return;
    }
  }
}
