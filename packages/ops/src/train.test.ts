import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { globalNorm } from './clip.js';
import { DisposedError } from './errors.js';
import { Linear } from './linear.js';
import { mseLoss } from './loss.js';
import { manualSeed } from './rng.js';
import { trainStep } from './train.js';

/** y = x [1, -2, 0.5]^T + 0.3, x ~ N(0, 1): a regression a Linear(3, 1) can fit exactly. */
function regression(n = 64): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const x = tf.randomNormal([n, 3], 0, 1, 'float32', 17) as tf.Tensor2D;
    const y = tf.add(tf.matMul(x, tf.tensor2d([[1], [-2], [0.5]])), 0.3) as tf.Tensor2D;
    return { x, y };
  });
}

function params(m: Linear): number[] {
  return [...m.weight.dataSync(), ...m.bias!.dataSync()];
}

describe('trainStep', () => {
  it('lowers the loss of a Linear regression over 50 SGD steps', () => {
    manualSeed(1);
    const m = new Linear(3, 1);
    const { x, y } = regression();
    const opt = tf.train.sgd(0.1);
    const losses: number[] = [];
    for (let i = 0; i < 50; i++) {
      const r = trainStep(m, () => mseLoss(m.forward(x), y), opt);
      expect(Number.isFinite(r.loss)).toBe(true);
      expect(Number.isFinite(r.gradNorm)).toBe(true);
      losses.push(r.loss);
    }
    expect(losses[0]).toBeGreaterThan(0.5);
    expect(losses[49]).toBeLessThan(losses[0] * 0.01);
    // monotone for a convex problem with a small step
    for (let i = 1; i < 50; i++) expect(losses[i]).toBeLessThanOrEqual(losses[i - 1] + 1e-6);
    const w = [...m.weight.dataSync()];
    expect(Math.abs(w[0] - 1)).toBeLessThan(0.05);
    expect(Math.abs(w[1] + 2)).toBeLessThan(0.05);
    tf.dispose([x, y]);
    opt.dispose();
    m.dispose();
  });

  it('returns the loss before the update and the unclipped global gradient norm', () => {
    manualSeed(2);
    const m = new Linear(3, 1);
    const { x, y } = regression();
    const f = () => mseLoss(m.forward(x), y);
    const { value, grads } = tf.variableGrads(f, m.parameters());
    const wantLoss = value.dataSync()[0];
    const wantNorm = globalNorm(grads);
    // the SGD update by hand
    const lr = 0.05;
    const before = params(m);
    const g = [...grads[m.weight.name].dataSync(), ...grads[m.bias!.name].dataSync()];
    tf.dispose([value, ...Object.values(grads)]);
    const opt = tf.train.sgd(lr);
    const r = trainStep(m, f, opt);
    expect(Math.abs(r.loss - wantLoss)).toBeLessThanOrEqual(1e-5 * Math.max(1, wantLoss));
    expect(Math.abs(r.gradNorm - wantNorm)).toBeLessThanOrEqual(1e-4 * Math.max(1, wantNorm));
    const after = params(m);
    for (let i = 0; i < after.length; i++) {
      expect(Math.abs(after[i] - (before[i] - lr * g[i]))).toBeLessThan(1e-5);
    }
    tf.dispose([x, y]);
    opt.dispose();
    m.dispose();
  });

  it('clipNorm bounds the update while gradNorm still reports the norm before clipping', () => {
    manualSeed(3);
    const m = new Linear(3, 1);
    const { x, y } = regression();
    const f = () => mseLoss(m.forward(x), y);
    const lr = 0.1;
    const clipNorm = 0.01;
    const opt = tf.train.sgd(lr);
    const { value, grads } = tf.variableGrads(f, m.parameters());
    const manual = globalNorm(grads);
    tf.dispose([value, ...Object.values(grads)]);
    expect(manual).toBeGreaterThan(clipNorm * 10);
    const before = params(m);
    const r = trainStep(m, f, opt, { clipNorm });
    expect(Math.abs(r.gradNorm - manual)).toBeLessThanOrEqual(1e-4 * Math.max(1, manual));
    const after = params(m);
    const step = Math.sqrt(after.reduce((s, v, i) => s + (v - before[i]) ** 2, 0));
    // SGD moved by lr * clipped gradient, whose norm is clipNorm
    expect(step).toBeLessThanOrEqual(lr * clipNorm * (1 + 1e-3));
    expect(step).toBeGreaterThan(lr * clipNorm * (1 - 1e-3));
    // a large clipNorm changes nothing: same step as without clipping
    manualSeed(3);
    const a = new Linear(3, 1);
    manualSeed(3);
    const b = new Linear(3, 1);
    const optA = tf.train.sgd(lr);
    const optB = tf.train.sgd(lr);
    trainStep(a, () => mseLoss(a.forward(x), y), optA, { clipNorm: 1e6 });
    trainStep(b, () => mseLoss(b.forward(x), y), optB);
    const pa = params(a);
    const pb = params(b);
    for (let i = 0; i < pa.length; i++) expect(Math.abs(pa[i] - pb[i])).toBeLessThan(1e-6);
    tf.dispose([x, y]);
    for (const o of [opt, optA, optB]) o.dispose();
    for (const mm of [m, a, b]) mm.dispose();
  });

  it('leaves no tensors behind over 200 steps (SGD, and Adam after its slots exist)', () => {
    manualSeed(4);
    const m = new Linear(3, 1);
    const { x, y } = regression(16);
    const sgd = tf.train.sgd(0.01);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) {
      trainStep(m, () => mseLoss(m.forward(x), y), sgd, i % 2 ? { clipNorm: 0.5 } : {});
    }
    expect(tf.memory().numTensors).toBe(before);
    const adam = tf.train.adam(0.01);
    trainStep(m, () => mseLoss(m.forward(x), y), adam);
    const afterFirst = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) trainStep(m, () => mseLoss(m.forward(x), y), adam);
    expect(tf.memory().numTensors).toBe(afterFirst);
    tf.dispose([x, y]);
    sgd.dispose();
    adam.dispose();
    m.dispose();
  });

  it('rejects a bad optimizer, loss function or options, changing nothing', () => {
    const m = new Linear(3, 1);
    const { x, y } = regression(8);
    const opt = tf.train.sgd(0.1);
    const f = () => mseLoss(m.forward(x), y);
    const before = params(m);
    const n = tf.memory().numTensors;
    expect(() => trainStep(m, f, {} as any)).toThrow(TypeError);
    expect(() => trainStep(m, f, {} as any)).toThrow(
      /^trainStep\(optimizer\): expected a tf\.train optimizer, got an? object$/,
    );
    expect(() => trainStep(m, f, 'sgd' as any)).toThrow(/trainStep\(optimizer\).*got "sgd"/);
    expect(() => trainStep(m, 3 as any, opt)).toThrow(
      /^trainStep\(loss\): expected a function returning a scalar, got 3$/,
    );
    expect(() => trainStep(m, f, opt, { clip_norm: 1 } as any)).toThrow(
      /trainStep: unknown option "clip_norm" \(did you mean "clipNorm"\?\)/,
    );
    expect(() => trainStep(m, f, opt, { clipNorm: -1 })).toThrow(RangeError);
    expect(() => trainStep(m, f, opt, { clipNorm: 0 })).toThrow(
      /expected a positive finite number, got 0/,
    );
    expect(params(m)).toEqual(before);
    expect(tf.memory().numTensors).toBe(n);
    tf.dispose([x, y]);
    opt.dispose();
    m.dispose();
  });

  it('rejects a loss that is not a scalar, changing nothing and leaking nothing', () => {
    const m = new Linear(3, 2);
    const x = tf.ones([4, 3]);
    const opt = tf.train.sgd(0.1);
    const before = [...m.weight.dataSync()];
    const n = tf.memory().numTensors;
    const vector = () => tf.sum(m.forward(x), 0) as unknown as tf.Scalar;
    expect(() => trainStep(m, vector, opt)).toThrow(TypeError);
    expect(() => trainStep(m, vector, opt)).toThrow(
      /^trainStep\(loss\): expected loss\(\) to return a scalar tensor \(float32\), got shape \[2\]$/,
    );
    expect(() => trainStep(m, (() => 0.5) as any, opt)).toThrow(
      /^trainStep\(loss\): expected loss\(\) to return a scalar tensor \(float32\), got 0\.5$/,
    );
    expect([...m.weight.dataSync()]).toEqual(before);
    expect(tf.memory().numTensors).toBe(n);
    tf.dispose(x);
    opt.dispose();
    m.dispose();
  });

  it('rejects what is not a Module, and a disposed model', () => {
    const m = new Linear(3, 1);
    const opt = tf.train.sgd(0.1);
    expect(() => trainStep({} as any, () => tf.scalar(0), opt)).toThrow(
      /^trainStep\(model\): expected a Module, got an? object$/,
    );
    expect(() => trainStep(null as any, () => tf.scalar(0), opt)).toThrow(
      /trainStep\(model\): expected a Module, got null/,
    );
    m.dispose();
    expect(() => trainStep(m, () => tf.scalar(0), opt)).toThrow(DisposedError);
    opt.dispose();
  });
});
