import { expectNoLeak } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Dropout, dropout } from './dropout.js';
import { DisposedError } from './errors.js';
import { manualSeed } from './rng.js';

describe('Dropout', () => {
  it('is the identity in eval mode (a new tensor equal to the input)', () => {
    const d = new Dropout(0.5).eval();
    expect(d.training).toBe(false);
    const x = tf.randomNormal([8, 16]);
    const y = expectNoLeak(() => d.forward(x), 1);
    expect(y).not.toBe(x);
    expect([...y.dataSync()]).toEqual([...x.dataSync()]);
    y.dispose();
    expect(x.isDisposed).toBe(false);
    tf.dispose(x);
    d.dispose();
  });

  it('in training zeroes about p of the elements and scales the rest by 1/(1-p)', () => {
    manualSeed(11);
    for (const p of [0.2, 0.5, 0.75]) {
      const d = new Dropout(p);
      expect(d.training).toBe(true);
      expect(d.p).toBe(p);
      const x = tf.randomUniform([100, 100], 1, 2);
      const y = expectNoLeak(() => d.forward(x), 1);
      expect(y.shape).toEqual([100, 100]);
      const xs = x.dataSync();
      const ys = y.dataSync();
      let zeros = 0;
      let worst = 0;
      for (let i = 0; i < xs.length; i++) {
        if (ys[i] === 0) zeros++;
        else worst = Math.max(worst, Math.abs(ys[i] - xs[i] / (1 - p)) / (ys[i] + 1));
      }
      expect(worst).toBeLessThan(1e-5);
      expect(Math.abs(zeros / xs.length - p)).toBeLessThan(0.02);
      tf.dispose([x, y]);
      d.dispose();
    }
  });

  it('keeps the expected value: the mean of many masks of ones is about 1', () => {
    manualSeed(12);
    const d = new Dropout(0.4);
    const x = tf.ones([50000]);
    const y = d.forward(x);
    const mean = tf.mean(y);
    expect(Math.abs(mean.dataSync()[0] - 1)).toBeLessThan(0.03);
    tf.dispose([x, y, mean]);
    d.dispose();
  });

  it('masks are reproducible under manualSeed and differ between calls', () => {
    const d = new Dropout(0.5);
    const x = tf.ones([64]);
    manualSeed(99);
    const a = d.forward(x);
    const b = d.forward(x);
    manualSeed(99);
    const c = d.forward(x);
    expect([...c.dataSync()]).toEqual([...a.dataSync()]);
    expect([...b.dataSync()]).not.toEqual([...a.dataSync()]);
    tf.dispose([x, a, b, c]);
    d.dispose();
  });

  it('Dropout(0) is the identity even in training; the default p is 0.5', () => {
    const d = new Dropout(0);
    const x = tf.randomNormal([10]);
    const y = d.forward(x);
    expect([...y.dataSync()]).toEqual([...x.dataSync()]);
    expect(new Dropout().p).toBe(0.5);
    tf.dispose([x, y]);
    d.dispose();
  });

  it('Dropout(1) zeroes everything in training (gradient zero, still connected), as PyTorch', () => {
    const d = new Dropout(1);
    const x = tf.tensor1d([1, -2, 3]);
    const y = d.forward(x);
    expect(Array.from(y.dataSync()).map((v) => v + 0)).toEqual([0, 0, 0]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(d.forward(v)))(x);
    expect(Array.from(g.dataSync())).toEqual([0, 0, 0]);
    const e = d.eval().forward(x);
    expect(Array.from(e.dataSync())).toEqual([1, -2, 3]);
    tf.dispose([x, y, g, e]);
  });

  it('rejects p outside [0, 1] and bad inputs', () => {
    expect(() => new Dropout(1.5)).toThrow(RangeError);
    expect(() => new Dropout(1.5)).toThrow(
      /^Dropout\(p\): expected a probability in \[0, 1\], got 1.5$/,
    );
    expect(() => new Dropout(-0.1)).toThrow(
      /Dropout\(p\): expected a probability in \[0, 1\], got -0\.1/,
    );
    expect(() => new Dropout(Number.NaN)).toThrow(/got NaN/);
    expect(() => new Dropout('0.5' as any)).toThrow(/got "0\.5"/);
    const d = new Dropout(0.5);
    expect(() => d.forward([1, 2] as any)).toThrow(
      /Dropout\.forward\(x\): expected a tf\.Tensor, got an array of length 2/,
    );
    const x = tf.ones([2]);
    d.dispose();
    expect(() => d.forward(x)).toThrow(DisposedError);
    x.dispose();
    expect(() => new Dropout(0.5).forward(x)).toThrow(DisposedError);
  });
});

describe('dropout (functional)', () => {
  it('follows the training flag and p', () => {
    manualSeed(3);
    const x = tf.ones([1000]);
    const off = dropout(x, 0.5, false);
    expect([...off.dataSync()].every((v) => v === 1)).toBe(true);
    const on = dropout(x, 0.5, true);
    const vals = [...on.dataSync()];
    expect(vals.every((v) => v === 0 || v === 2)).toBe(true);
    expect(vals.filter((v) => v === 0).length).toBeGreaterThan(400);
    expect(vals.filter((v) => v === 0).length).toBeLessThan(600);
    tf.dispose([x, off, on]);
  });

  it('rejects a bad p and a non-tensor input', () => {
    const x = tf.ones([4]);
    expect(() => dropout(x, 1.01, true)).toThrow(RangeError);
    expect(() => dropout(x, 1.01, true)).toThrow(
      /dropout\(p\): expected a probability in \[0, 1\], got 1.01/,
    );
    expect(() => dropout(x, -0.5, false)).toThrow(/got -0\.5/);
    expect(() => dropout('x' as any, 0.5, true)).toThrow(/dropout\(x\): expected a tf\.Tensor/);
    expect(() => dropout(x, 0.5, 1 as any)).toThrow(
      /dropout\(training\): expected true or false, got 1/,
    );
    x.dispose();
  });
});
