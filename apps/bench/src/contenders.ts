/**
 * The timing of one case's contenders: each one checked against rnnkit's output and warmed up,
 * then all of them sampled in interleaved rounds.
 */
import { ENGINE_DEFAULTS, enginePolicy } from '@rnnkit/cell/internal';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName, BenchCase } from './cases.js';
import { type CaseResult, type ImplName, type ImplResult, TOLERANCE } from './results.js';
import type { RunOptions } from './run.js';
import { maxAbsDiff, type SamplePlan, summarize } from './stats.js';
import { callWhile, sample, type Timed, warmUp } from './timing.js';

/** Its call returns the output sequence (forward) or the loss before the update (train). */
export interface Contender extends Timed<Float32Array | number> {
  name: ImplName;
  dispose: () => void;
  different?: boolean;
}

/**
 * Hooks that run a contender's calls with the kernel on one thread (no call split), then restore
 * the split policy. The workers stay up: stopped and started again around every sample
 * (setKernelThreads), they took the CPU from the contenders timed next while they started.
 */
export const oneThread: Pick<Contender, 'enter' | 'exit'> = {
  enter: async () => {
    enginePolicy.minParallelWork = Number.POSITIVE_INFINITY;
    enginePolicy.minStepWork = Number.POSITIVE_INFINITY;
  },
  exit: async () => {
    enginePolicy.minParallelWork = ENGINE_DEFAULTS.minParallelWork;
    enginePolicy.minStepWork = ENGINE_DEFAULTS.minStepWork;
  },
};

/**
 * Hooks that run a contender's calls on the kernel's plain SIMD build (where the relaxed-SIMD
 * build is in use), then restore the default.
 */
export const plainSimd: Pick<Contender, 'enter' | 'exit'> = {
  enter: async () => {
    enginePolicy.relaxedSimd = false;
  },
  exit: async () => {
    enginePolicy.relaxedSimd = ENGINE_DEFAULTS.relaxedSimd;
  },
};

/** Seconds as the progress bar shows them. */
function fmtEta(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Checks each contender against rnnkit's output (the first call), warms it up, then samples all
 * of them in interleaved rounds; fills in their entries of `result.impls`.
 */
export async function timeContenders(
  c: BenchCase,
  backend: BackendName,
  contenders: Contender[],
  result: CaseResult,
  opts: RunOptions,
  progress: (task: string) => void,
): Promise<void> {
  const tag = `${c.id} ${backend}`;
  // Check, then warm up. The first call's output is the one compared with rnnkit's.
  let reference: Float32Array | number | null = null;
  const timed: Array<{
    k: Contender;
    r: ImplResult;
    reps: number;
    batch: number;
    samples: number[];
  }> = [];
  for (const k of contenders) {
    progress(`${tag} ${k.name} check`);
    const r: ImplResult = { status: 'ok', warmupMs: [] };
    result.impls[k.name] = r;
    let out: Float32Array | number;
    try {
      let calls = 0;
      out = (await callWhile(k, r.warmupMs!, () => calls++ === 0))!;
    } catch (e) {
      result.impls[k.name] = { status: 'error', reason: (e as Error).message };
      continue;
    }
    if (k.name === 'rnnkit') reference = out;
    if (reference === null) {
      result.impls[k.name] = { status: 'skipped', reason: 'no rnnkit output to check against' };
      continue;
    }
    const diff =
      typeof out === 'number' || typeof reference === 'number'
        ? Math.abs(Number(out) - Number(reference))
        : maxAbsDiff(out, reference);
    r.maxAbsDiff = diff;
    if (!(diff <= TOLERANCE)) {
      if (!k.different) {
        r.status = 'mismatch';
        r.reason = `max |diff| ${diff.toExponential(1)} > ${TOLERANCE}`;
        continue;
      }
      r.status = 'different';
      r.reason = `a different function (max |diff| ${diff.toExponential(1)})`;
    }
    const first = r.warmupMs![0];
    if (first > opts.slowLimitMs) {
      // Too slow to repeat within the time budget: its one (cold) run is all there is.
      r.samplesMs = [first];
      r.summary = summarize([first]);
      r.batch = 1;
      r.cold = true;
      r.reason = `one cold run only (${fmtEta(first)} > ${fmtEta(opts.slowLimitMs)} limit)`;
      continue;
    }
    progress(`${tag} ${k.name} warm-up`);
    let plan: SamplePlan;
    try {
      plan = await warmUp(k, r.warmupMs!, opts.policy);
    } catch (e) {
      result.impls[k.name] = { status: 'error', reason: (e as Error).message };
      continue;
    }
    r.batch = plan.batch;
    timed.push({ k, r, reps: plan.samples, batch: plan.batch, samples: [] });
  }

  // Interleaved timed rounds: each round takes one sample of every implementation.
  const rounds = Math.max(0, ...timed.map((t) => t.reps));
  const leaks = new Map<ImplName, number>();
  for (let round = 0; round < rounds; round++) {
    for (const t of timed) {
      if (round >= t.reps) continue;
      progress(`${tag} ${t.k.name} ${round + 1}/${t.reps}${t.batch > 1 ? ` ×${t.batch}` : ''}`);
      const before = tf.memory().numTensors;
      try {
        t.samples.push(await sample(t.k, t.batch));
      } catch (e) {
        t.r.status = 'error';
        t.r.reason = (e as Error).message;
        t.reps = round;
        continue;
      }
      leaks.set(t.k.name, (leaks.get(t.k.name) ?? 0) + tf.memory().numTensors - before);
    }
  }
  for (const t of timed) {
    if (t.samples.length === 0) continue;
    t.r.samplesMs = t.samples;
    t.r.summary = summarize(t.samples);
    t.r.leakedTensors = leaks.get(t.k.name) ?? 0;
  }
}
