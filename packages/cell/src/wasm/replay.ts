import type * as tf from '@tensorflow/tfjs-core';
import { enginePolicy } from '../policy.js';
import type { KernelExports } from './loader.js';
import { memoryEpoch } from './memory.js';
import type { KernelInputs, Layout } from './recurrence.js';
import { kernelThreads } from './threads.js';

/**
 * The last inference recurrence's layout, so that the next call of the same shapes and weights (a
 * decode loop: one step after another) skips laying out the kernel's memory again: it copies its
 * input and initial state in where the last call put them and runs the argument blocks that call
 * wrote (its biases are still in place). Valid only while the memory is laid out as that call left it: the same kernel instance
 * (releaseKernelMemory makes a new one), no other call since (each lays out an arena, packs or
 * moves weights: memory.ts `memoryEpoch`), the same threads and split policy (a recurrence split
 * by columns has its control block reset before each run: threads.ts `runShares`).
 */

/** What a layout kept in the kernel's arena relies on besides its own inputs. */
export interface Stamp {
  k: KernelExports;
  epoch: number;
  threads: number;
  minWork: number;
  minStepWork: number;
  projectAhead: boolean;
}

/** The stamp of a layout just made (by a call of kernel exports `k`). */
export const stamp = (k: KernelExports): Stamp => ({
  k,
  epoch: memoryEpoch(),
  threads: kernelThreads(),
  minWork: enginePolicy.minParallelWork,
  minStepWork: enginePolicy.minStepWork,
  projectAhead: enginePolicy.projectAhead,
});

/**
 * True while a layout of stamp `s` is intact and split as a new one would be: the same kernel
 * instance, no layout since, the same threads and split policy.
 */
export const holds = (s: Stamp, k: KernelExports): boolean =>
  s.k === k &&
  s.epoch === memoryEpoch() &&
  s.threads === kernelThreads() &&
  s.minWork === enginePolicy.minParallelWork &&
  s.minStepWork === enginePolicy.minStepWork &&
  s.projectAhead === enginePolicy.projectAhead;

interface Plan {
  at: Layout;
  stamp: Stamp;
  /** What decides the layout, compared by identity: sizes, flags, weights' data, host biases */
  key: unknown[];
}

let last: Plan | null = null;
let replays = 0;

/** What decides a call's layout; weights by their data (a tensor's data never changes). */
function keyOf(a: KernelInputs): unknown[] {
  const p = a.project;
  const data = (t: tf.Tensor | null | undefined) => t?.dataId ?? null;
  return [
    a.mode,
    a.T,
    a.B,
    a.H,
    a.S,
    a.G,
    a.reverse,
    a.batchFirst ?? false,
    a.valid !== null,
    p?.I ?? -1,
    data(p?.wih),
    p?.bih ?? null,
    data(a.whh),
    a.bhh,
    data(a.whr),
  ];
}

/**
 * Keeps the layout of an inference call just run (`recurrence` without `save`), to be replayed;
 * host biases are compared by identity: callers pass read-only arrays (e.g. `hostData`).
 */
export function keep(k: KernelExports, a: KernelInputs, at: Layout): void {
  last = { at, stamp: stamp(k), key: keyOf(a) };
}

/**
 * The kept layout when `a` may run on it (the caller copies in x and the initial state and runs
 * its blocks), else null (the caller lays the call out anew).
 */
export function replayable(k: KernelExports, a: KernelInputs): Layout | null {
  const p = last;
  if (!p || !holds(p.stamp, k)) return null;
  const key = keyOf(a);
  for (let i = 0; i < key.length; i++) if (key[i] !== p.key[i]) return null;
  replays++;
  return p.at;
}

/** Calls replayed so far (for tests). */
export const replayCount = (): number => replays;
