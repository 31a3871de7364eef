import { spawnSync } from 'node:child_process';
import { maxAbsDiff, randn, seeded } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINE_DEFAULTS, enginePolicy } from '../policy.js';
import { kernelReady } from '../sequence/engine.js';
import { runSequence } from '../sequence/run.js';
import { type CellMode, createRecurrentWeights, type RecurrentWeights } from '../weights.js';
import { kernelBuild, relaxedSimdSupported } from './loader.js';
import { aheadShares, columnShares } from './shares.js';
import { initKernel, kernelThreads, setKernelThreads } from './threads.js';

/** The kernel on (the default) or off (the plain JS path). */
const setKernelEnabled = (on: boolean) => {
  enginePolicy.kernel = on;
};
/** The work each thread's share of a split call must reach; omitted: the default. */
const setMinParallelWork = (macs = ENGINE_DEFAULTS.minParallelWork) => {
  enginePolicy.minParallelWork = macs;
};

const T = 5;
/** Batch size of most tests (the thread tests use more, to split). */
const B = 3;
const I = 7;
const H = 6;
/** Sequence lengths 5, 2, 4 (pack_padded_sequence semantics). */
const LENGTHS = [5, 2, 4];

interface Case {
  mode: CellMode;
  proj?: number;
  bias?: boolean;
}
const CASES: Case[] = [
  { mode: 'rnn_tanh' },
  { mode: 'rnn_relu' },
  { mode: 'rnn_tanh', bias: false },
  { mode: 'lstm' },
  { mode: 'lstm', proj: 4 },
  { mode: 'gru' },
  { mode: 'gru', bias: false },
];

function weights(c: Case, hidden = H): RecurrentWeights {
  return seeded(11, () =>
    createRecurrentWeights(
      (_, v) => tf.variable(v),
      '',
      c.mode,
      I,
      hidden,
      c.bias ?? true,
      c.proj ?? 0,
    ),
  );
}

/**
 * Outputs, final state and the gradients of every input of one run, with the kernel on or off;
 * B sequences of `lengths` (when masked).
 */
function run(
  w: RecurrentWeights,
  kernel: boolean,
  reverse: boolean,
  masked: boolean,
  { B, lengths } = { B: 3, lengths: LENGTHS },
) {
  setKernelEnabled(kernel);
  const S = w.whr ? (w.whr.shape[0] as number) : w.hiddenSize;
  const x = randn([T, B, I], 2);
  const h0 = randn([B, S], 3);
  const c0 = w.mode === 'lstm' ? randn([B, w.hiddenSize], 4) : null;
  const params = [w.wih, w.whh, w.bih, w.bhh, w.whr].filter((p): p is tf.Variable => p !== null);
  const f = (...args: tf.Tensor[]) => {
    const [xs, h, c] = args;
    const { output, state } = runSequence(w, xs as tf.Tensor3D, c ? { h, c } : { h }, {
      reverse,
      lengths: masked ? lengths : null,
    });
    const parts = [output, state.h, state.c].filter((p): p is tf.Tensor => p !== undefined);
    // a weighted sum, so every element's gradient differs
    return tf.addN(parts.map((p, k) => tf.sum(tf.mul(tf.sin(tf.add(p, k)), p)))) as tf.Scalar;
  };
  const inputs = c0 ? [x, h0, c0] : [x, h0];
  const forward = tf.tidy(() => {
    const { output, state } = runSequence(w, x as tf.Tensor3D, c0 ? { h: h0, c: c0 } : { h: h0 }, {
      reverse,
      lengths: masked ? lengths : null,
    });
    return [output, state.h, ...(state.c ? [state.c] : [])];
  });
  const { grads: inputGrads, value } = tf.valueAndGrads(f)(inputs);
  const { grads: paramGrads, value: v2 } = tf.variableGrads(() => f(...inputs), params);
  setKernelEnabled(true);
  const grads = [...inputGrads, ...params.map((p) => paramGrads[p.name])];
  tf.dispose([x, h0, value, v2, ...(c0 ? [c0] : [])]);
  return { forward, grads };
}

/** Largest difference relative to the larger magnitude of the two (abs below 1). */
function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  const scale = Math.max(1, ...[a, b].map((t) => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0])));
  return maxAbsDiff(a, b) / scale;
}

describe('WebAssembly recurrence kernel', () => {
  afterEach(() => setKernelEnabled(true));

  it('is ready once initKernel resolves, and initKernel is idempotent', async () => {
    expect(await initKernel()).toBe(true);
    expect(await initKernel()).toBe(true);
    expect(kernelReady()).toBe(true);
    setKernelEnabled(false);
    expect(kernelReady()).toBe(false);
  });

  it('runs the relaxed-SIMD build exactly where the runtime has it, within rounding of the plain one', () => {
    // Node 21+ has relaxed SIMD; Node 20 behind a flag (the project wasm-relaxed passes it).
    const flag = process.execArgv.includes('--experimental-wasm-relaxed-simd');
    const relaxed = flag || Number(process.versions.node.split('.')[0]) >= 21;
    expect(relaxedSimdSupported()).toBe(relaxed);
    expect(kernelBuild()).toBe(relaxed ? 'relaxed' : 'simd');
    const w = weights({ mode: 'lstm' });
    const forward = (fused: boolean) => {
      enginePolicy.relaxedSimd = fused;
      return run(w, true, false, true).forward;
    };
    try {
      const plain = forward(false);
      expect(kernelBuild()).toBe('simd');
      const fused = forward(true);
      const diffs = plain.map((t, k) => maxAbsDiff(t, fused[k]!));
      // A fused multiply-add rounds once where a multiply and an add round twice.
      if (relaxed) expect(Math.max(...diffs)).toBeGreaterThan(0);
      else expect(diffs).toEqual(plain.map(() => 0));
      for (const d of diffs) expect(d).toBeLessThan(1e-6);
      tf.dispose([...plain, ...fused]);
    } finally {
      enginePolicy.relaxedSimd = ENGINE_DEFAULTS.relaxedSimd;
    }
    tf.dispose(Object.values(w).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
  });

  it('replaces every tfjs matMul of an inference forward (projection and per step)', async () => {
    const w = weights({ mode: 'lstm', proj: 4 });
    const matMuls = async (kernel: boolean) => {
      setKernelEnabled(kernel);
      const x = randn([T, B, I]);
      const info = await tf.profile(() => {
        const { output, state } = runSequence(w, x as tf.Tensor3D, {
          h: tf.zeros([B, 4]),
          c: tf.zeros([B, H]),
        });
        return [output, state.h, state.c!];
      });
      tf.dispose([x, ...(info.result as tf.Tensor[])]);
      return info.kernels.filter((k) => k.name === 'BatchMatMul').length;
    };
    expect(await matMuls(false)).toBeGreaterThanOrEqual(2 * T + 1);
    expect(await matMuls(true)).toBe(0);
    tf.dispose(Object.values(w).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
  });

  for (const c of CASES) {
    for (const reverse of [false, true]) {
      for (const masked of [false, true]) {
        const name = `${c.mode}${c.proj ? ` proj ${c.proj}` : ''}${c.bias === false ? ' no bias' : ''}${reverse ? ' reverse' : ''}${masked ? ' masked' : ''}`;
        it(`agrees with the JS path: ${name} (forward 1e-6, gradients 1e-5)`, () => {
          const w = weights(c);
          const before = tf.memory().numTensors;
          const js = run(w, false, reverse, masked);
          const wasm = run(w, true, reverse, masked);
          js.forward.forEach((t, k) => {
            expect(maxAbsDiff(t, wasm.forward[k]), `forward ${k}`).toBeLessThanOrEqual(1e-6);
          });
          js.grads.forEach((g, k) => {
            expect(relDiff(g, wasm.grads[k]), `gradient ${k}`).toBeLessThanOrEqual(1e-5);
          });
          tf.dispose([...js.forward, ...js.grads, ...wasm.forward, ...wasm.grads]);
          expect(tf.memory().numTensors).toBe(before);
          tf.dispose(Object.values(w).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
        });
      }
    }
  }

  it('caches packed weights per variable value: assigning a weight changes the output', () => {
    for (const c of [{ mode: 'lstm', proj: 4 }, { mode: 'gru' }] as Case[]) {
      const w = weights(c);
      const S = w.whr ? (w.whr.shape[0] as number) : H;
      const x = randn([T, B, I], 5);
      const init = () => {
        const h = tf.ones([B, S]);
        return w.mode === 'lstm' ? { h, c: tf.ones([B, H]) } : { h };
      };
      const forward = (kernel: boolean) => {
        setKernelEnabled(kernel);
        return tf.tidy(() => runSequence(w, x as tf.Tensor3D, init()).output);
      };
      const first = forward(true);
      expect(maxAbsDiff(forward(true), first)).toBe(0); // a hit gives the same output
      const params = [w.wih, w.whh, w.whr].filter((p): p is tf.Variable => p !== null);
      for (const p of params) {
        const before = tf.tidy(() => forward(true));
        p.assign(tf.tidy(() => tf.mul(p, 0.5)));
        const kernel = forward(true);
        const js = forward(false);
        expect(maxAbsDiff(kernel, before)).toBeGreaterThan(1e-4);
        expect(maxAbsDiff(kernel, js)).toBeLessThanOrEqual(1e-6);
        tf.dispose([before, kernel, js]);
      }
      tf.dispose([x, first]);
      tf.dispose(Object.values(w).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
    }
  });

  it('stays correct with more weights than the cache holds', () => {
    const models = Array.from({ length: 20 }, (_, k) =>
      seeded(100 + k, () =>
        createRecurrentWeights((_, v) => tf.variable(v), '', 'gru', I, H, true, 0),
      ),
    );
    const x = randn([T, B, I], 6);
    for (let round = 0; round < 2; round++) {
      for (const w of models) {
        const out = (kernel: boolean) => {
          setKernelEnabled(kernel);
          return tf.tidy(() => runSequence(w, x as tf.Tensor3D, { h: tf.zeros([B, H]) }).output);
        };
        const a = out(true);
        const b = out(false);
        expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(1e-6);
        tf.dispose([a, b]);
      }
    }
    tf.dispose(x);
    for (const w of models) {
      tf.dispose(Object.values(w).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
    }
  });
});

describe('kernel worker threads', () => {
  afterEach(async () => {
    Object.assign(enginePolicy, ENGINE_DEFAULTS);
    await setKernelThreads();
  });

  it('starts the threads asked for (Node has worker_threads) and rejects a bad count', async () => {
    expect(await setKernelThreads(2)).toBe(2);
    expect(kernelThreads()).toBe(2);
    expect(await setKernelThreads(1)).toBe(1);
    for (const bad of [0, 1.5, -2]) {
      await expect(setKernelThreads(bad)).rejects.toThrow(
        `setKernelThreads(n): expected an integer >= 1, got ${bad}`,
      );
    }
    expect(kernelThreads()).toBe(1); // a rejected call changes nothing
  });

  it('has the threads ready once initKernel resolves: a synchronous loop splits its calls', () => {
    // A fresh process (this one's setup started the pool already), the built package: nothing
    // awaited after initKernel, as in a benchmark loop or a synchronous request handler.
    const dist = (f: string) => JSON.stringify(new URL(`../../dist/${f}`, import.meta.url).href);
    const script = `import { availableParallelism } from 'node:os';
      const k = await import(${dist('index.js')});
      const { ranges } = await import(${dist('wasm/shares.js')});
      const { runSequence, createRecurrentWeights } = await import(${dist('internal.js')});
      const tf = await import('@tensorflow/tfjs-core');
      await import('@tensorflow/tfjs-backend-cpu');
      await tf.setBackend('cpu');
      const ready = await k.initKernel();
      const seen = [];
      const w = createRecurrentWeights((_, v) => tf.variable(v), '', 'lstm', 64, 128, true, 0);
      const x = tf.randomNormal([16, 64, 64]);
      const h = tf.zeros([64, 128]);
      for (let i = 0; i < 3; i++) {
        seen.push([k.kernelThreads(), ranges(64, 64 * 16 * 512 * 128).length]);
        tf.dispose(Object.values(runSequence(w, x, { h, c: h }, {}).state));
      }
      console.log(JSON.stringify({ ready, seen, hw: Math.min(availableParallelism(), 4) }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: new URL('../..', import.meta.url).pathname,
    });
    expect(r.status, r.stderr).toBe(0);
    const { ready, seen, hw } = JSON.parse(r.stdout);
    expect(ready).toBe(true);
    expect(hw).toBeGreaterThan(1); // this suite's machines have several threads
    expect(seen).toEqual([
      [hw, hw],
      [hw, hw],
      [hw, hw],
    ]);
  });

  it('stays on one thread where workers are forbidden (Node permission model), without errors', () => {
    // The built package in a Node that may read files but not start workers.
    const dist = new URL('../../dist/index.js', import.meta.url).href;
    const script = `const k = await import(${JSON.stringify(dist)});
      console.log(JSON.stringify([await k.initKernel(), await k.setKernelThreads(2), k.kernelThreads()]));`;
    const r = spawnSync(
      process.execPath,
      ['--experimental-permission', '--allow-fs-read=*', '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([true, 1, 1]);
  });

  it('splits hidden units by default only where each thread gets enough of every step and of the call', async () => {
    expect(await setKernelThreads(2)).toBe(2);
    const split = (unitChunk: number) => ({ parties: 2, unitChunk, stateChunk: unitChunk });
    const one = { parties: 1, unitChunk: 0, stateChunk: 0 };
    // (B, T, H, G, S): LSTM B=1 T=1000 H=256, the tutorial (B=2 T=10) of every cell, the LSTM and
    // GRU decode steps (B=1 T=1 H=256) split, in halves of H; the RNN decode step (2 ** 16
    // multiply-adds in all), LSTM, GRU and RNN B=1 H=64 (2 ** 14, 3 * 2 ** 12 and 2 ** 12 per
    // step) and 8 sequences (split by rows instead) do not.
    expect(columnShares(1, 1000, 256, 1024, 256)).toEqual(split(128));
    expect(columnShares(2, 10, 256, 1024, 256)).toEqual(split(128));
    expect(columnShares(2, 10, 256, 768, 256)).toEqual(split(128));
    expect(columnShares(2, 10, 256, 256, 256)).toEqual(split(128));
    expect(columnShares(1, 1, 256, 1024, 256)).toEqual(split(128));
    expect(columnShares(1, 1, 256, 768, 256)).toEqual(split(128));
    expect(columnShares(1, 1, 256, 256, 256)).toEqual(one);
    expect(columnShares(1, 10000, 64, 256, 64)).toEqual(one);
    expect(columnShares(1, 10000, 64, 192, 64)).toEqual(one);
    expect(columnShares(1, 10000, 64, 64, 64)).toEqual(one);
    expect(columnShares(8, 1000, 256, 1024, 256)).toEqual(one);
  });

  it('projects the input ahead by default only where the call has 4 chunks of steps or more and its projection would split', async () => {
    expect(await setKernelThreads(2)).toBe(2);
    const none = { projectors: 0, steps: 0 };
    // (T, B, multiply-adds of the projection): the long-sequence case (LSTM B=1 H=64 I=32) in
    // chunks of 64 steps; 3 sequences in chunks of 22 (64 rows or more); the tutorial (T=10) and
    // a projection too small to split (2 ** 16 multiply-adds) do not.
    expect(aheadShares(10000, 1, 10000 * 256 * 32)).toEqual({ projectors: 1, steps: 64 });
    expect(aheadShares(100, 3, 100 * 3 * 256 * 32)).toEqual({ projectors: 1, steps: 22 });
    expect(aheadShares(10, 2, 10 * 2 * 1024 * 300)).toEqual(none);
    expect(aheadShares(255, 1, 255 * 256 * 32)).toEqual(none);
    expect(aheadShares(10000, 1, 1 << 16)).toEqual(none);
    // At most 4096 chunks: 10 ** 6 steps in chunks of 245.
    expect(aheadShares(1e6, 1, 1e6 * 256 * 32).steps).toBe(245);
    enginePolicy.projectAhead = false;
    expect(aheadShares(10000, 1, 10000 * 256 * 32)).toEqual(none);
  });

  interface Drawn {
    mode: CellMode;
    B: number;
    T: number;
    I: number;
    H: number;
    proj: boolean;
    reverse: boolean;
    batchFirst: boolean;
    threads: number;
    seed: number;
  }

  /** Output and final state of an inference of `c` (ragged lengths, given states), flattened. */
  const forward = (w: RecurrentWeights, x: tf.Tensor3D, S: number, c: Drawn) =>
    tf.tidy(() => {
      const lengths = Array.from({ length: c.B }, (_, b) => 1 + ((b * 7) % c.T));
      const h = tf.fill([c.B, S], 0.1);
      const init = w.mode === 'lstm' ? { h, c: tf.fill([c.B, w.hiddenSize], -0.2) } : { h };
      const { output, state } = runSequence(w, x, init, {
        reverse: c.reverse,
        lengths,
        batchFirst: c.batchFirst,
      });
      const parts = [output, state.h, ...(state.c ? [state.c] : [])];
      return tf.concat(parts.map((t) => tf.reshape(t, [-1]))).dataSync();
    });

  /** Each drawn case's inference on `c.threads` threads equals the one on one thread, bit for bit. */
  async function sameOnThreads(samples: Drawn[], check: (c: Drawn) => void = () => {}) {
    for (const c of samples) {
      const proj = c.proj && c.mode === 'lstm' && c.H > 1 ? c.H - 1 : 0;
      const w = seeded(c.seed, () =>
        createRecurrentWeights((_, v) => tf.variable(v), '', c.mode, c.I, c.H, true, proj),
      );
      const S = proj || c.H;
      const x = randn(c.batchFirst ? [c.B, c.T, c.I] : [c.T, c.B, c.I], c.seed) as tf.Tensor3D;
      expect(await setKernelThreads(1)).toBe(1);
      const one = forward(w, x, S, c);
      expect(await setKernelThreads(c.threads)).toBe(c.threads);
      check(c);
      const many = forward(w, x, S, c);
      expect(Array.from(many), JSON.stringify(c)).toEqual(Array.from(one));
      tf.dispose([x, ...Object.values(w).filter((v): v is tf.Tensor => v instanceof tf.Tensor)]);
    }
  }

  /** Cases of `B` sequences of `T` steps, with small random sizes and every option. */
  const drawn = (B: fc.Arbitrary<number>, T: (B: number) => fc.Arbitrary<number>) =>
    B.chain((b) =>
      fc.record({
        mode: fc.constantFrom<CellMode>('rnn_tanh', 'rnn_relu', 'lstm', 'gru'),
        B: fc.constant(b),
        T: T(b),
        I: fc.integer({ min: 1, max: 11 }),
        // Multiples of 8 as often as not: their chunks' products span the gates (gateColumns).
        H: fc.oneof(fc.integer({ min: 1, max: 41 }), fc.constantFrom(8, 16, 24, 32, 40)),
        proj: fc.boolean(),
        reverse: fc.boolean(),
        batchFirst: fc.boolean(),
        threads: fc.constantFrom(2, 3),
        seed: fc.integer({ min: 0, max: 1000 }),
      }),
    );

  it('property: any batch (B >= 8: by rows; fewer: by hidden units) split across 2 or 3 threads gives the one-thread forward bit for bit', async () => {
    setMinParallelWork(1);
    enginePolicy.minStepWork = 1;
    const cases = drawn(fc.integer({ min: 1, max: 29 }), () => fc.integer({ min: 1, max: 5 }));
    await sameOnThreads(fc.sample(cases, { numRuns: 60, seed: 7 }));
  });

  it('property: fewer than 8 sequences on one thread with their input projected ahead by 1 or 2 others give the one-thread forward bit for bit', async () => {
    setMinParallelWork(1);
    enginePolicy.minStepWork = Number.POSITIVE_INFINITY;
    // 4 to 6 chunks of steps, the last one often partial.
    const steps = (B: number) => Math.ceil(64 / B);
    const cases = drawn(fc.integer({ min: 1, max: 7 }), (B) =>
      fc.integer({ min: 4 * steps(B), max: 6 * steps(B) }),
    );
    await sameOnThreads(fc.sample(cases, { numRuns: 30, seed: 8 }), (c) => {
      expect(aheadShares(c.T, c.B, c.T * c.B * c.H * c.I)).toEqual({
        projectors: c.threads - 1,
        steps: steps(c.B),
      });
    });
  });

  // 9 sequences split as rows 0-7 and 8 (every call split: minimum work 1 multiply-add); 1 and 2
  // sequences split by hidden units: H = 20 as units 0-15 and 16-19 (gate blocks and a last strip
  // that are not multiples of 8), an LSTM's projection P = 12 as 0-7 and 8-11.
  const splits = [
    { batch: { B: 9, lengths: [5, 2, 4, 1, 5, 3, 5, 2, 4] }, hidden: H, cases: CASES },
    ...[
      { B: 1, lengths: [4] },
      { B: 2, lengths: [5, 3] },
    ].map((batch) => ({
      batch,
      hidden: 20,
      cases: CASES.map((c) => (c.proj ? { ...c, proj: 12 } : c)),
    })),
  ];
  for (const { batch, hidden, cases } of splits) {
    for (const c of cases) {
      for (const reverse of [false, true]) {
        const name = `${c.mode}${c.proj ? ` proj ${c.proj}` : ''}${c.bias === false ? ' no bias' : ''}${reverse ? ' reverse' : ''}`;
        it(`gives bit-identical outputs and gradients on 2 threads as on 1: B ${batch.B}, H ${hidden}, ${name}, ragged`, async () => {
          const w = weights(c, hidden);
          setMinParallelWork(1);
          enginePolicy.minStepWork = 1;
          const before = tf.memory().numTensors;
          expect(await setKernelThreads(1)).toBe(1);
          const one = run(w, true, reverse, true, batch);
          expect(await setKernelThreads(2)).toBe(2);
          const G = { rnn_tanh: 1, rnn_relu: 1, lstm: 4, gru: 3 }[c.mode] * hidden;
          // Chunks of 16 units (0-15, 16-19); P = 4 in one chunk of 8.
          expect(columnShares(batch.B, T, hidden, G, c.proj ?? hidden)).toEqual(
            batch.B < 8
              ? { parties: 2, unitChunk: 16, stateChunk: c.proj ? 8 : 16 }
              : { parties: 1, unitChunk: 0, stateChunk: 0 },
          );
          const two = run(w, true, reverse, true, batch);
          const js = run(w, false, reverse, true, batch);
          one.forward.forEach((t, k) => {
            expect(maxAbsDiff(t, two.forward[k]), `forward ${k}`).toBe(0);
            expect(maxAbsDiff(t, js.forward[k]), `forward ${k} vs JS`).toBeLessThanOrEqual(1e-6);
          });
          one.grads.forEach((g, k) => {
            expect(maxAbsDiff(g, two.grads[k]), `gradient ${k}`).toBe(0);
          });
          tf.dispose([...one.forward, ...one.grads, ...two.forward, ...two.grads]);
          tf.dispose([...js.forward, ...js.grads]);
          expect(tf.memory().numTensors).toBe(before);
          tf.dispose(Object.values(w).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
        });
      }
    }
  }
});
