import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { dropoutMask, manualSeed, normal, uniform } from './rng.js';

function stats(t: tf.Tensor): { mean: number; std: number; min: number; max: number } {
  const d = [...t.dataSync()];
  const mean = d.reduce((s, v) => s + v, 0) / d.length;
  const std = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / d.length);
  return { mean, std, min: Math.min(...d), max: Math.max(...d) };
}

describe('rng', () => {
  it('manualSeed makes uniform, normal and dropout masks reproducible', () => {
    const draw = () => {
      const u = uniform([5, 7], -2, 3);
      const n = normal([3]); // odd count: a Box-Muller spare is left over
      const m = dropoutMask([40], 0.3);
      const n2 = normal([4], 1, 2);
      const out = [u, n, m, n2].map((t) => [...t.dataSync()]);
      tf.dispose([u, n, m, n2]);
      return out;
    };
    manualSeed(1234);
    const a = draw();
    manualSeed(1234);
    const b = draw();
    expect(b).toEqual(a);
    manualSeed(1235);
    const c = draw();
    expect(c[0]).not.toEqual(a[0]);
    expect(c[1]).not.toEqual(a[1]);
    // without reseeding the stream moves on
    const d = draw();
    expect(d[0]).not.toEqual(c[0]);
    manualSeed(0);
    const z = draw();
    expect(z[0]).not.toEqual(a[0]);
  });

  it('uniform(shape, low, high) is float32 in [low, high) and spread over it', () => {
    manualSeed(5);
    const u = uniform([100, 100], -0.5, 1.5);
    expect(u.dtype).toBe('float32');
    expect(u.shape).toEqual([100, 100]);
    const s = stats(u);
    expect(s.min).toBeGreaterThanOrEqual(-0.5);
    expect(s.max).toBeLessThan(1.5);
    expect(s.min).toBeLessThan(-0.49);
    expect(s.max).toBeGreaterThan(1.49);
    expect(Math.abs(s.mean - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(s.std - 2 / Math.sqrt(12))).toBeLessThan(0.01);
    const e = uniform([0, 3], 0, 1);
    expect(e.shape).toEqual([0, 3]);
    tf.dispose([u, e]);
  });

  it('normal(shape, mean, std) has the requested moments', () => {
    manualSeed(6);
    const n = normal([200, 100]);
    const s = stats(n);
    expect(Math.abs(s.mean)).toBeLessThan(0.02);
    expect(Math.abs(s.std - 1)).toBeLessThan(0.02);
    expect([...n.dataSync()].every(Number.isFinite)).toBe(true);
    const m = normal([20000], 3, 0.5);
    const t = stats(m);
    expect(Math.abs(t.mean - 3)).toBeLessThan(0.02);
    expect(Math.abs(t.std - 0.5)).toBeLessThan(0.02);
    tf.dispose([n, m]);
  });

  it('dropoutMask holds 0 with probability p and 1/(1-p) otherwise', () => {
    manualSeed(7);
    for (const p of [0.1, 0.5, 0.9]) {
      const mask = dropoutMask([20000], p);
      const d = [...mask.dataSync()];
      const keep = Math.fround(1 / (1 - p));
      expect(d.every((v) => v === 0 || v === keep)).toBe(true);
      const zeros = d.filter((v) => v === 0).length / d.length;
      expect(Math.abs(zeros - p)).toBeLessThan(0.02);
      mask.dispose();
    }
    const none = dropoutMask([100], 0);
    expect([...none.dataSync()].every((v) => v === 1)).toBe(true);
    none.dispose();
  });

  it('manualSeed rejects a seed that is not a non-negative integer', () => {
    expect(() => manualSeed(-1)).toThrow(RangeError);
    expect(() => manualSeed(-1)).toThrow(/^manualSeed\(seed\): expected an integer >= 0, got -1$/);
    expect(() => manualSeed(1.5)).toThrow(/got 1\.5/);
    expect(() => manualSeed(Number.NaN)).toThrow(/got NaN/);
    expect(() => manualSeed('42' as any)).toThrow(/got "42"/);
    expect(() => manualSeed(undefined as any)).toThrow(/got undefined/);
  });
});
