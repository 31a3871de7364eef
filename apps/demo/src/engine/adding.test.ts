import { setBackend } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADDING_BASELINE,
  addingBatch,
  gradientFlow,
  gradientVerdict,
  type StepInfo,
  trainAdding,
} from './adding.js';
import { CELL_TYPES } from './options.js';
import { DataRng } from './rng.js';

describe('the adding problem', () => {
  it('has two markers per sequence, one in each half, and the target is their values summed', () => {
    const T = 9;
    const d = addingBatch(new DataRng(3), 50, T);
    for (let b = 0; b < 50; b++) {
      const marked: number[] = [];
      for (let t = 0; t < T; t++) {
        const v = d.x[(b * T + t) * 2];
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThan(1);
        if (d.x[(b * T + t) * 2 + 1] === 1) marked.push(t);
        else expect(d.x[(b * T + t) * 2 + 1]).toBe(0);
      }
      expect(marked).toHaveLength(2);
      expect(marked[0]).toBeLessThan(4);
      expect(marked[1]).toBeGreaterThanOrEqual(4);
      const sum = marked.reduce((s, t) => s + d.x[(b * T + t) * 2], 0);
      expect(d.y[b]).toBeCloseTo(sum, 6);
    }
  });

  it('the baseline is the variance of the target (always answering its mean, 1)', () => {
    const d = addingBatch(new DataRng(1), 20_000, 4);
    const mse = d.y.reduce((s, y) => s + (y - 1) ** 2, 0) / d.y.length;
    expect(mse).toBeCloseTo(ADDING_BASELINE, 2);
  });
});

describe('trainAdding', () => {
  beforeAll(async () => {
    // wasm gives the same numbers as cpu (checked below) about four times faster.
    await setBackend('wasm');
  });
  afterAll(async () => {
    await setBackend('cpu');
  });

  it('LSTM learns the adding problem: loss below 0.05 within 300 steps (seed 0), no leaks', async () => {
    const before = tf.memory().numTensors;
    const seen: StepInfo[] = [];
    const r = await trainAdding({
      cell: 'lstm',
      hiddenSize: 32,
      seqLen: 10,
      steps: 300,
      lr: 0.02,
      seed: 0,
      onStep: (s) => seen.push(s),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.steps).toBe(300);
    expect(r.stopped).toBe(false);
    expect(seen.map((s) => s.step)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(seen.every((s) => Number.isFinite(s.loss) && s.gradNorm > 0)).toBe(true);
    expect(r.firstLoss).toBeGreaterThan(0.5);
    // Far below the 1/6 of always answering the mean: it learned which values are marked.
    expect(r.recentLoss).toBeLessThan(0.05);
    expect(r.recentLoss).toBeLessThan(ADDING_BASELINE / 3);
    expect(r.backend).toBe('wasm');
  });

  it('cpu and wasm train to the same numbers', async () => {
    const opts = { cell: 'gru', hiddenSize: 8, seqLen: 6, steps: 5, seed: 2 } as const;
    const wasm = await trainAdding(opts);
    await setBackend('cpu');
    const cpu = await trainAdding(opts);
    await setBackend('wasm');
    for (let i = 0; i < 5; i++) expect(wasm.losses[i]).toBeCloseTo(cpu.losses[i], 4);
  });

  it('clipping bounds the update but reports the norm before clipping', async () => {
    const opts = { cell: 'rnn', hiddenSize: 16, seqLen: 8, steps: 3, seed: 4 } as const;
    const free = await trainAdding(opts);
    const clipped = await trainAdding({ ...opts, clipNorm: 0.01 });
    // Same first step (same init and batch), then different paths.
    expect(clipped.gradNorms[0]).toBeCloseTo(free.gradNorms[0], 5);
    expect(clipped.gradNorms[0]).toBeGreaterThan(0.01);
    expect(clipped.losses[2]).not.toBeCloseTo(free.losses[2], 5);
  });

  it('is reproducible for a seed', async () => {
    const opts = { cell: 'myrnn', hiddenSize: 8, seqLen: 5, steps: 4, seed: 9 } as const;
    const a = await trainAdding(opts);
    const b = await trainAdding(opts);
    expect(a.losses).toEqual(b.losses);
  });

  it('stops between steps on an AbortSignal or shouldStop, and disposes everything', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const r = await trainAdding({
      cell: 'gru',
      hiddenSize: 8,
      seqLen: 5,
      steps: 1000,
      signal: controller.signal,
      onStep: ({ step }) => {
        if (step === 5) controller.abort();
      },
    });
    expect(r).toMatchObject({ steps: 5, stopped: true });
    expect(r.losses).toHaveLength(5);

    let calls = 0;
    const s = await trainAdding({
      cell: 'lstm',
      hiddenSize: 8,
      seqLen: 5,
      steps: 1000,
      shouldStop: () => ++calls > 3,
    });
    expect(s).toMatchObject({ steps: 3, stopped: true });

    const aborted = new AbortController();
    aborted.abort();
    const none = await trainAdding({ cell: 'rnn', steps: 10, signal: aborted.signal });
    expect(none).toMatchObject({ steps: 0, stopped: true });
    expect(Number.isNaN(none.finalLoss)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('yields to the event loop so a stop from a timer gets through', async () => {
    let stop = false;
    setTimeout(() => {
      stop = true;
    }, 30);
    const r = await trainAdding({
      cell: 'rnn',
      hiddenSize: 8,
      seqLen: 5,
      steps: 100_000,
      yieldMs: 5,
      shouldStop: () => stop,
    });
    expect(r.stopped).toBe(true);
    expect(r.steps).toBeLessThan(100_000);
  });

  it('rejects bad options', async () => {
    await expect(trainAdding({ cell: 'lstm', steps: 0 })).rejects.toThrow(
      /trainAdding\(\{ steps \}\)/,
    );
    await expect(trainAdding({ cell: 'lstm', lr: -1 })).rejects.toThrow(/trainAdding\(\{ lr \}\)/);
    await expect(trainAdding({ cell: 'lstm', clipNorm: 0 })).rejects.toThrow(/clipNorm/);
    await expect(trainAdding({ cell: 'cnn' as never })).rejects.toThrow(RangeError);
  });
});

describe('gradientFlow', () => {
  it.each(CELL_TYPES)('%s: one positive, finite |dL/dx_t| per step, no leaks', (cell) => {
    const before = tf.memory().numTensors;
    const r = gradientFlow({ cell, hiddenSize: 16, seqLen: 12, seed: 0 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.norms).toHaveLength(12);
    expect(r.norms.every((n) => Number.isFinite(n) && n > 0)).toBe(true);
    expect(r.paramGradNorm).toBeGreaterThan(0);
    expect(r.clipFactor).toBe(1);
    expect(r.clippedNorms).toEqual(r.norms);
  });

  it('shows vanishing gradients at init and exploding ones with a large recurrent gain', () => {
    const vanish = gradientFlow({ cell: 'rnn', hiddenSize: 32, seqLen: 20 });
    expect(vanish.norms[0]).toBeLessThan(vanish.norms[19] / 100);
    expect(vanish.verdict).toBe('vanishing');
    const explode = gradientFlow({ cell: 'myrnn', hiddenSize: 32, seqLen: 20, gain: 3 });
    expect(explode.norms[0]).toBeGreaterThan(explode.norms[19]);
    expect(explode.verdict).toBe('exploding');
    expect(explode.paramGradNorm).toBeGreaterThan(vanish.paramGradNorm);
  });

  it('reports what clipping does to the pass', () => {
    const r = gradientFlow({ cell: 'rnn', hiddenSize: 16, seqLen: 10, gain: 3, clipNorm: 1 });
    expect(r.paramGradNorm).toBeGreaterThan(1);
    expect(r.clipFactor).toBeCloseTo(1 / r.paramGradNorm, 4);
    r.clippedNorms.forEach((n, t) => {
      expect(n).toBeCloseTo(r.norms[t] * r.clipFactor, 8);
    });
  });

  it('the verdict thresholds', () => {
    expect(gradientVerdict(1e-5)).toBe('vanishing');
    expect(gradientVerdict(Number.NaN)).toBe('vanishing');
    expect(gradientVerdict(1)).toBe('flowing');
    expect(gradientVerdict(50)).toBe('exploding');
  });
});
