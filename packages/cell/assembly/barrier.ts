// The per-step meeting point of the threads that split one recurrence's columns (assembly/recurrence.ts).

/** Spins before a thread that may block naps instead (about 1 ms: a step takes microseconds). */
const SPIN = 1 << 20;
/** A blocked wait's timeout (ns): it polls, so no thread needs to notify. */
const NAP: i64 = 20_000;

/**
 * Returns once all `parties` threads have called it with the same `sync` (two int32 words, zeroed
 * before the first meeting: how many have arrived, and the meeting's number). The last to arrive
 * resets the count and moves the number on; the others spin on it (a browser's main thread may not
 * block), and after a bounded spin a thread that may block (`blocking`, a worker) naps instead of
 * taking a core from the one it waits for. In a build without threads there is only one party.
 */
@inline
export function meet(sync: usize, parties: i32, blocking: bool): void {
  if (!ASC_FEATURE_THREADS) return;
  const gen = atomic.load<i32>(sync, 4);
  if (atomic.add<i32>(sync, 1) == parties - 1) {
    atomic.store<i32>(sync, 0);
    atomic.store<i32>(sync, gen + 1, 4);
    return;
  }
  let n = 0;
  while (atomic.load<i32>(sync, 4) == gen) {
    if (blocking && ++n > SPIN) atomic.wait<i32>(sync + 4, gen, NAP);
  }
}
