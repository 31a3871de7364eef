// How the bench times a call: warm-up by time, then samples of consecutive calls. run.ts (the
// cases) and seq2seq.ts (the decoder step) share it, so both time their contenders the same way.
import {
  keepWarming,
  planSamples,
  type RepPolicy,
  type SamplePlan,
  warmEstimate,
} from './stats.js';

/** Something timed: one call, and hooks run before and after each run of calls, untimed. */
export interface Timed<Out> {
  call: () => Out | Promise<Out>;
  enter?: () => Promise<unknown>;
  exit?: () => Promise<unknown>;
}

export const now = () => performance.now();

/**
 * Calls `k` while `more()` says so, between its enter and exit hooks, recording each call's time
 * in `times`; returns the last call's output.
 */
export async function callWhile<Out>(
  k: Timed<Out>,
  times: number[],
  more: () => boolean,
): Promise<Out | undefined> {
  await k.enter?.();
  try {
    let out: Out | undefined;
    while (more()) {
      const t0 = now();
      out = await k.call();
      times.push(now() - t0);
    }
    return out;
  } finally {
    await k.exit?.();
  }
}

/**
 * Warms `k` up by time (the first call pays for compiling and first-use setup, and V8 tiers up
 * JavaScript only after many calls), appending each call's time to `times`; returns how many
 * samples of how many calls to take.
 */
export async function warmUp<Out>(
  k: Timed<Out>,
  times: number[],
  policy: RepPolicy,
): Promise<SamplePlan> {
  await callWhile(k, times, () => keepWarming(times, policy));
  return planSamples(warmEstimate(times), policy);
}

/** One sample: `batch` consecutive calls between the hooks -> milliseconds per call. */
export async function sample<Out>(k: Timed<Out>, batch: number): Promise<number> {
  await k.enter?.();
  try {
    const t0 = now();
    for (let i = 0; i < batch; i++) await k.call();
    return (now() - t0) / batch;
  } finally {
    await k.exit?.();
  }
}
