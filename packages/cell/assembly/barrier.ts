// How the threads that split one recurrence's columns (assembly/recurrence.ts) share its work:
// each stage of the recurrence (a step, or one of its two phases) is cut into chunks of columns.
// Chunk c belongs to thread c % parties, which runs it in every stage unless another thread took
// it first: a thread that is done with its own chunks of a stage and finds another's not yet
// claimed after a short wait (the owner is still waking up, or descheduled on a busy machine) runs
// it itself, and keeps doing so at once in the next stages until the owner claims again. So a late
// thread holds up no one, and in the common case a step costs one cache line's trip between the
// threads (the other's done flag) instead of a contended counter's several.
//
// The control block at `sync` (zeroed before each call), two cache lines per chunk c: at
// c * 128 the int32 1 + the last stage whose chunk c was claimed (written by whoever claims it,
// nearly always its owner, so the line stays in the owner's cache), at c * 128 + 64 the int32
// 1 + the last stage whose chunk c is done (the line the others poll).

/** Bytes of the control block per chunk (two cache lines; src/wasm/shares.ts lays it out). */
const SYNC_BYTES: usize = 128;
/** Polls of another's done flag before trying to take its chunk (about a microsecond). */
const PATIENCE = 256;
/** Polls before a thread that may block naps instead (tens of µs: a chunk takes microseconds). */
const SPIN = 1 << 16;
/** A blocked wait's timeout (ns): it polls, so no thread needs to notify. */
const NAP: i64 = 20_000;

@inline
function claimAt(sync: usize, c: i32): usize {
  return sync + <usize>c * SYNC_BYTES;
}

@inline
function doneAt(sync: usize, c: i32): usize {
  return sync + <usize>c * SYNC_BYTES + 64;
}

/**
 * Takes chunk c of `stage` when no thread has yet: true when this thread is to run it. Without
 * threads (a build that never splits a call), always true.
 */
@inline
export function take(sync: usize, c: i32, stage: i32): bool {
  if (!ASC_FEATURE_THREADS) return true;
  const at = claimAt(sync, c);
  const v = atomic.load<i32>(at);
  return v <= stage && atomic.cmpxchg<i32>(at, v, stage + 1) == v;
}

/** Marks chunk c of `stage` done (after its results are written). */
@inline
export function finish(sync: usize, c: i32, stage: i32): void {
  if (ASC_FEATURE_THREADS) atomic.store<i32>(doneAt(sync, c), stage + 1);
}

/** True once chunk c of `stage` is done. */
@inline
export function isDone(sync: usize, c: i32, stage: i32): bool {
  return !ASC_FEATURE_THREADS || atomic.load<i32>(doneAt(sync, c)) > stage;
}

/**
 * Waits until chunk c of `stage` is done, or returns false when this thread should run it itself:
 * at once when `eager` (it took this chunk in the last stage: its owner is away), else when the
 * chunk is still unclaimed after PATIENCE polls. Polls (a browser's main thread may not block);
 * after a bounded spin a thread that may block (`blocking`, a worker) naps instead of taking a
 * core from the one it waits for.
 */
@inline
export function waitFor(sync: usize, c: i32, stage: i32, eager: bool, blocking: bool): bool {
  if (!ASC_FEATURE_THREADS) return true;
  const at = doneAt(sync, c);
  let n = 0;
  let v = atomic.load<i32>(at);
  while (v <= stage) {
    if ((eager || n == PATIENCE) && atomic.load<i32>(claimAt(sync, c)) <= stage) return false;
    if (blocking && n > SPIN) atomic.wait<i32>(at, v, NAP);
    else n++;
    v = atomic.load<i32>(at);
  }
  return true;
}
