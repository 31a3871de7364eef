// How the threads that split one recurrence's columns (assembly/recurrence.ts) share its work:
// each stage of the recurrence (a step, or one of its two phases) is cut into chunks of columns,
// and every thread claims the next chunk until none is left. A thread that is late (still waking
// up, or descheduled on a busy machine) holds up no one unless it holds a chunk: the others take
// the chunks it would have had, so a split call is never much slower than one thread.
//
// The control block at `sync` (16 bytes, zeroed before each call): an int64 whose high word is
// the stage now open and whose low word is its next chunk; then the int32 count of its chunks done.

/** Polls before a thread that may block naps instead (tens of µs: a chunk takes microseconds). */
const SPIN = 1 << 16;
/** A blocked wait's timeout (ns): it polls, so no thread needs to notify. */
const NAP: i64 = 20_000;

/**
 * The next chunk to run, as stage << 32 | chunk, once one is free; -1 when all `stages` are done.
 * A stage has `first` chunks, or `second` when `phases` is 2 and the stage is a step's second
 * phase (odd); -1 in a build without threads (which never splits a call). While every chunk of the
 * open stage is taken, waits for it to end: polls (a browser's main thread may not block), and
 * after a bounded spin a thread that may block (`blocking`, a worker) naps instead of taking a
 * core from the one it waits for.
 */
@inline
export function claim(sync: usize, stages: i32, first: i32, second: i32, phases: i32, blocking: bool): i64 {
  if (!ASC_FEATURE_THREADS) return -1;
  let n = 0;
  let w = atomic.load<i64>(sync);
  while (<i32>(w >>> 32) < stages) {
    const stage = <i32>(w >>> 32);
    const count = phases == 2 && stage & 1 ? second : first;
    if (<i32>w < count) {
      if (atomic.cmpxchg<i64>(sync, w, w + 1) == w) return w;
    } else if (blocking && ++n > SPIN) atomic.wait<i32>(sync + 4, stage, NAP);
    w = atomic.load<i64>(sync);
  }
  return -1;
}

/**
 * Marks a chunk of the open stage (which has `count` chunks) done; true when it was the stage's
 * last, so that the caller may finish the stage and then `open` the next.
 */
@inline
export function done(sync: usize, count: i32): bool {
  if (!ASC_FEATURE_THREADS) return true;
  if (atomic.add<i32>(sync + 8, 1) != count - 1) return false;
  atomic.store<i32>(sync + 8, 0);
  return true;
}

/** Opens `stage` (its chunks from 0): threads waiting in `claim` go on. */
@inline
export function open(sync: usize, stage: i32): void {
  if (ASC_FEATURE_THREADS) atomic.store<i64>(sync, <i64>stage << 32);
}
