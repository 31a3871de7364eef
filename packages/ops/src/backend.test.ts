import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { afterSetBackend, BACKENDS, type BackendName, getBackend, setBackend } from './backend.js';
import { Linear } from './linear.js';
import { manualSeed } from './rng.js';
import { trainStep } from './train.js';

const original = process.env.RNNKIT_BACKEND as BackendName;

afterAll(async () => {
  await setBackend(original);
});

describe('backends', () => {
  it("getBackend() is the project's RNNKIT_BACKEND", () => {
    expect(BACKENDS).toEqual(['cpu', 'wasm']);
    expect(BACKENDS).toContain(original);
    expect(getBackend()).toBe(original);
    expect(tf.getBackend()).toBe(original);
  });

  it("setBackend rejects an unknown name, naming 'setBackend(name)', the choices and the value", async () => {
    await expect(setBackend('tpu' as any)).rejects.toThrow(TypeError);
    await expect(setBackend('tpu' as any)).rejects.toThrow(
      /^setBackend\(name\): expected one of 'cpu', 'wasm', got "tpu"$/,
    );
    await expect(setBackend('CPU' as any)).rejects.toThrow(/got "CPU"/);
    await expect(setBackend(undefined as any)).rejects.toThrow(/got undefined/);
    await expect(setBackend(1 as any)).rejects.toThrow(/got 1$/);
    expect(getBackend()).toBe(original);
  });

  it('setBackend rejects unknown or malformed options, suggesting the camelCase name', async () => {
    await expect(setBackend(original, { wasm_paths: '/x/' } as any)).rejects.toThrow(
      /^setBackend: unknown option "wasm_paths" \(did you mean "wasmPaths"\?\); expected one of "wasmPaths", "threads"$/,
    );
    await expect(setBackend(original, { thread: false } as any)).rejects.toThrow(
      /unknown option "thread"; expected one of "wasmPaths", "threads"$/,
    );
    await expect(setBackend(original, { threads: 4 } as any)).rejects.toThrow(
      /^setBackend\(\{ threads \}\): expected true or false, got 4$/,
    );
    await expect(setBackend(original, 'fast' as any)).rejects.toThrow(
      /setBackend: expected an options object, got "fast"/,
    );
    expect(getBackend()).toBe(original);
  });

  it('switching cpu <-> wasm keeps a Linear usable with the same outputs, and training works', async () => {
    const other: BackendName = original === 'cpu' ? 'wasm' : 'cpu';
    manualSeed(3);
    const m = new Linear(5, 3);
    const x = tf.tensor2d([
      [0.1, -0.2, 0.3, 0.4, -0.5],
      [1, 2, 3, 4, 5],
    ]);
    const y0 = m.forward(x);
    const want = [...y0.dataSync()];
    const w0 = [...m.weight.dataSync()];

    await setBackend(other);
    expect(getBackend()).toBe(other);
    expect(tf.getBackend()).toBe(other);
    const y1 = m.forward(x);
    const got = [...y1.dataSync()];
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5);
    // gradients are registered on this backend too
    const opt = tf.train.sgd(0.1);
    const step = trainStep(m, () => tf.sum(tf.square(m.forward(x))) as tf.Scalar, opt);
    expect(Number.isFinite(step.gradNorm) && step.gradNorm > 0).toBe(true);
    expect([...m.weight.dataSync()]).not.toEqual(w0);

    await setBackend(original);
    expect(getBackend()).toBe(original);
    // setting the active backend again is harmless
    await setBackend(original);
    expect(getBackend()).toBe(original);
    const y2 = m.forward(x);
    expect(y2.shape).toEqual([2, 3]);
    expect([...y2.dataSync()].every(Number.isFinite)).toBe(true);
    tf.dispose([x, y0, y1, y2]);
    opt.dispose();
    m.dispose();
  });
});

describe('afterSetBackend', () => {
  it('makes setBackend wait for each hook; a failing hook does not fail it', async () => {
    const backend = getBackend();
    let done = false;
    afterSetBackend(async () => {
      await new Promise((r) => setTimeout(r, 20));
      done = true;
    });
    afterSetBackend(() => Promise.reject(new Error('hook failed')));
    await setBackend(backend);
    expect(done).toBe(true);
    expect(getBackend()).toBe(backend);
  });
});
