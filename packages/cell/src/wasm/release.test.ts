import { KernelError } from '@rnnkit/ops';
import { randn, seeded } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINE_DEFAULTS, enginePolicy } from '../policy.js';
import { runSequence } from '../sequence/run.js';
import { createRecurrentWeights, type RecurrentWeights } from '../weights.js';
import { kernelMemory, releaseKernelMemory } from './release.js';
import { setKernelThreads } from './threads.js';

afterEach(async () => {
  Object.assign(enginePolicy, ENGINE_DEFAULTS);
  await setKernelThreads();
});

const MiB = 2 ** 20;

/** GRU weights I 4 -> H 32 as tf.Variables (cached packed in the kernel's memory). */
const gru = (): RecurrentWeights =>
  seeded(2, () => createRecurrentWeights((_, v) => tf.variable(v), '', 'gru', 4, 32, true));

/** Outputs and final h of an inference over x [T, B, 4], as host values. */
function infer(w: RecurrentWeights, x: tf.Tensor3D): Float32Array {
  const h = tf.zeros([x.shape[1], 32]);
  try {
    const { output, state } = runSequence(w, x, { h });
    const values = new Float32Array([...output.dataSync(), ...state.h.dataSync()]);
    tf.dispose([output, state.h]);
    return values;
  } finally {
    h.dispose();
  }
}

const dispose = (w: RecurrentWeights) =>
  tf.dispose(Object.values(w).filter((v): v is tf.Tensor => v instanceof tf.Tensor));

describe('kernel memory', () => {
  it('grows to the largest call, is reused, and releaseKernelMemory gives it back', async () => {
    const w = gru();
    const x = randn([200, 64, 4]) as tf.Tensor3D; // x, its projection and the outputs: ~6.5 MiB
    const first = infer(w, x);
    const grown = kernelMemory().bytes;
    expect(grown).toBeGreaterThan(6 * MiB);
    expect(infer(w, x)).toEqual(first);
    expect(kernelMemory().bytes).toBe(grown);
    await releaseKernelMemory();
    expect(kernelMemory().bytes).toBe(128 * 1024);
    expect(infer(w, x)).toEqual(first); // weights packed again into the new memory
    await releaseKernelMemory();
    tf.dispose(x);
    dispose(w);
  });

  it('keeps the worker count and splits calls on the new memory', async () => {
    enginePolicy.minParallelWork = 1;
    expect(await setKernelThreads(3)).toBe(3);
    const w = gru();
    const x = randn([3, 24, 4]) as tf.Tensor3D;
    const before = infer(w, x);
    await releaseKernelMemory();
    expect(kernelMemory().workers).toBe(2);
    expect(infer(w, x)).toEqual(before);
    tf.dispose(x);
    dispose(w);
  });

  it('a call past the limit throws KernelError with the bytes and the limit, memory untouched', () => {
    enginePolicy.maxKernelBytes = 16 * MiB;
    const w = gru();
    const x = randn([600, 64, 4]) as tf.Tensor3D; // needs ~20 MiB
    const bytes = kernelMemory().bytes;
    const n = tf.memory().numTensors;
    expect(() => infer(w, x)).toThrow(KernelError);
    expect(() => infer(w, x)).toThrow(
      /^rnnkit kernel: the call needs at least \d+ MiB of WebAssembly memory \(\d+ bytes\), more than the kernel's limit of 16 MiB; give it fewer or shorter sequences per call/,
    );
    expect(tf.memory().numTensors).toBe(n);
    expect(kernelMemory().bytes).toBeLessThanOrEqual(Math.max(bytes, 16 * MiB));
    enginePolicy.maxKernelBytes = ENGINE_DEFAULTS.maxKernelBytes;
    expect(infer(w, x).length).toBe(600 * 64 * 32 + 64 * 32);
    tf.dispose(x);
    dispose(w);
  });
});
