// Issue 19 (reliability round 2), the WebAssembly kernel's side: a call past its 4 GiB memory
// throws a KernelError naming the layer, the bytes, the limit and what to do (also inside
// trainStep, leaking nothing); the memory a huge call grew is reused and given back by
// releaseKernelMemory(); setKernelThreads() returns to the default, refuses absurd counts and
// stops workers when the count goes down.
import { releaseKernelMemory, setKernelThreads } from '@rnnkit/cell';
import { ENGINE_DEFAULTS, enginePolicy, kernelMemory } from '@rnnkit/cell/internal';
import { KernelError, Linear, manualSeed, mseLoss, trainStep } from '@rnnkit/ops';
import { GRU, LSTM } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { det, PROJECT_BACKEND, tensorsIn } from './test-utils.js';

afterEach(async () => {
  Object.assign(enginePolicy, ENGINE_DEFAULTS);
  await setKernelThreads();
});

/** The error `f` throws (null if none). */
function thrown(f: () => unknown): Error | null {
  try {
    tf.dispose(tensorsIn(f()));
    return null;
  } catch (e) {
    return e as Error;
  }
}

const MiB = 2 ** 20;

describe(`past the kernel's memory (${PROJECT_BACKEND})`, () => {
  it('LSTM(1, 256) on x [1, 1.1M, 1]: a KernelError naming the layer, bytes, limit and what to do', () => {
    manualSeed(3);
    const lstm = new LSTM({ inputSize: 1, hiddenSize: 256, batchFirst: true });
    const x = tf.zeros([1, 1_100_000, 1]);
    const small = det([2, 5, 1]);
    const before = tf.tidy(() => Array.from((lstm.forward(small)[0] as tf.Tensor).dataSync()));
    const n = tf.memory().numTensors;
    const e = thrown(() => lstm.forward(x));
    expect(e?.constructor, e?.message).toBe(KernelError);
    expect(e!.message).toMatch(
      /^LSTM\.forward: rnnkit kernel: the call needs at least 4\d{3} MiB of WebAssembly memory \(\d+ bytes\), more than the kernel's limit of 4096 MiB; give it fewer or shorter sequences per call \(split the batch or the time steps\) or smaller layers$/,
    );
    expect(tf.memory().numTensors).toBe(n);
    // the layer still works, with the same numbers
    const after = tf.tidy(() => Array.from((lstm.forward(small)[0] as tf.Tensor).dataSync()));
    expect(after).toEqual(before);
    tf.dispose([x, small]);
    lstm.dispose();
  });

  it('the same failure inside trainStep leaks nothing and leaves the weights unchanged', () => {
    manualSeed(4);
    enginePolicy.maxKernelBytes = 32 * MiB;
    const gru = new GRU({ inputSize: 1, hiddenSize: 64, batchFirst: true });
    const head = new Linear(64, 1);
    const x = tf.zeros([1, 50_000, 1]);
    const y = tf.zeros([1, 1]);
    const opt = tf.train.sgd(0.1);
    const weights = () => gru.parameters().map((p) => Array.from(p.dataSync()));
    const w0 = weights();
    const n = tf.memory().numTensors;
    const bytes = tf.memory().numBytes;
    const e = thrown(() =>
      trainStep(
        gru,
        () => {
          const [out] = gru.forward(x);
          const last = tf.slice(out as tf.Tensor, [0, 49_999, 0], [1, 1, 64]);
          return mseLoss(head.forward(tf.reshape(last, [1, 64])), y);
        },
        opt,
      ),
    );
    expect(e?.constructor, e?.message).toBe(KernelError);
    expect(e!.message).toMatch(
      /^GRU\.forward: rnnkit kernel: the call needs at least \d+ MiB of WebAssembly memory \(\d+ bytes\), more than the kernel's limit of 32 MiB; give it fewer/,
    );
    expect(tf.memory().numTensors, 'tensors leaked').toBe(n);
    expect(tf.memory().numBytes, 'bytes leaked').toBe(bytes);
    expect(weights()).toEqual(w0);
    // within the limit, the same model trains
    enginePolicy.maxKernelBytes = ENGINE_DEFAULTS.maxKernelBytes;
    const ok = trainStep(
      gru,
      () =>
        mseLoss(
          tf.slice(gru.forward(det([2, 3, 1]))[0] as tf.Tensor, [0, 2, 0], [2, 1, 1]),
          tf.zeros([2, 1, 1]),
        ),
      opt,
    );
    expect(Number.isFinite(ok.loss)).toBe(true);
    tf.dispose([x, y]);
    opt.dispose();
    gru.dispose();
    head.dispose();
  });
});

describe(`kernel memory is reused and given back (${PROJECT_BACKEND})`, () => {
  it('a large call grows the memory once, repeats reuse it, releaseKernelMemory gives it back', async () => {
    manualSeed(5);
    const gru = new GRU({ inputSize: 8, hiddenSize: 64 });
    const x = det([400, 64, 8]); // the arena holds x, its projection and the outputs: ~30 MiB
    // (not returned from a tidy: tidy walks a returned typed array value by value)
    const run = () => {
      const [out, h] = gru.forward(x) as [tf.Tensor, tf.Tensor];
      const values = out.dataSync() as Float32Array;
      tf.dispose([out, h]);
      return values;
    };
    const same = (a: Float32Array, b: Float32Array) =>
      a.length === b.length && a.every((v, i) => v === b[i]);
    const first = run();
    const grown = kernelMemory().bytes;
    expect(grown).toBeGreaterThan(16 * MiB);
    expect(same(run(), first)).toBe(true);
    expect(kernelMemory().bytes, 'a repeat reuses the memory').toBe(grown);
    await releaseKernelMemory();
    expect(kernelMemory().bytes, 'a fresh memory of 2 pages').toBeLessThanOrEqual(128 * 1024);
    // the cached packed weights went with it: packed again, same numbers
    expect(same(run(), first)).toBe(true);
    expect(kernelMemory().bytes).toBe(grown);
    await releaseKernelMemory();
    x.dispose();
    gru.dispose();
  });

  it('with worker threads: the workers restart on the new memory and give the same numbers', async () => {
    enginePolicy.minParallelWork = 1;
    expect(await setKernelThreads(2)).toBe(2);
    expect(kernelMemory().workers).toBe(1);
    manualSeed(6);
    const lstm = new LSTM({ inputSize: 4, hiddenSize: 16 });
    const x = det([6, 16, 4]);
    const run = () => tf.tidy(() => Array.from((lstm.forward(x)[0] as tf.Tensor).dataSync()));
    const before = run();
    // a call made while the release is under way runs on the old memory, on one thread
    const release = releaseKernelMemory();
    expect(run()).toEqual(before);
    await release;
    expect(kernelMemory().workers).toBe(1);
    expect(run()).toEqual(before);
    x.dispose();
    lstm.dispose();
  });
});

describe(`setKernelThreads (${PROJECT_BACKEND})`, () => {
  it('setKernelThreads() after setKernelThreads(8) is the default again: the machine threads, at most 4', async () => {
    const { availableParallelism } = await import('node:os');
    const byDefault = Math.min(availableParallelism(), 4);
    expect(await setKernelThreads(8)).toBe(8);
    expect(kernelMemory().workers).toBe(7);
    expect(await setKernelThreads()).toBe(byDefault);
    expect(kernelMemory().workers, 'workers stopped when the count goes down').toBe(byDefault - 1);
    expect(await setKernelThreads(2)).toBe(2);
    expect(kernelMemory().workers).toBe(1);
    expect(await setKernelThreads(1)).toBe(1);
    expect(kernelMemory().workers).toBe(0);
  });

  it('refuses absurd counts with a clear message and changes nothing', async () => {
    const { availableParallelism } = await import('node:os');
    const max = Math.max(2 * availableParallelism(), 8);
    expect(await setKernelThreads(2)).toBe(2);
    await expect(setKernelThreads(1000)).rejects.toThrow(
      new RangeError(
        `setKernelThreads(n): expected at most ${max} threads (this machine runs ${availableParallelism()} at once; more only wait for a core, each holding a worker), got 1000`,
      ),
    );
    expect(kernelMemory().workers).toBe(1);
  });
});
