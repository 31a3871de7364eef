// Assertions shared by the packages' behaviour tests (tensor values, leaks, error messages).
import { check, compare, gradGrad, readFixture, tolerance } from '@rnnkit/golden';
import { loadSafetensors, manualSeed, safetensorsMetadata } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** The tensor's values as a plain array (exact comparison with toEqual). */
export function values(t) {
  return Array.from(t.dataSync());
}

/** Largest absolute value of a tensor (no spread: safe for large tensors). */
export function maxAbs(t) {
  let m = 0;
  for (const v of t.dataSync()) m = Math.max(m, Math.abs(v));
  return m;
}

/** A seeded standard-normal float32 tensor. */
export function randn(shape, seed = 1) {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

/** Largest absolute difference between two tensors of the same shape. */
export function maxAbsDiff(a, b) {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/**
 * Asserts same shape and values within `tol`: the largest absolute difference ('abs'), or that
 * divided by max(1, max |expected|) ('rel', for gradients, whose scale varies). NaN never passes.
 */
export function expectClose(actual, expected, tol = 1e-6, kind = 'abs') {
  expect(actual.shape).toEqual(expected.shape);
  expect(compare(actual, expected)[kind]).toBeLessThanOrEqual(tol);
}

/** A golden fixture: its tensors and parsed config. The caller disposes `t`. */
export function fixture(group, name) {
  const bytes = readFixture(group, name);
  return { t: loadSafetensors(bytes), config: JSON.parse(safetensorsMetadata(bytes).config) };
}

/** Asserts same shape and exactly the same values (-0 equals 0). */
export function expectEqual(a, b) {
  expect(a.shape).toEqual(b.shape);
  expect(values(a).map((v) => v + 0)).toEqual(values(b).map((v) => v + 0));
}

/** Runs fn and asserts the live tensor count afterwards equals the count before plus `kept`. */
export function expectNoLeak(fn, kept = 0) {
  const before = tf.memory().numTensors;
  const out = fn();
  expect(tf.memory().numTensors).toBe(before + kept);
  return out;
}

/**
 * Asserts fn throws an instance of `cls` (with a matching `name`) whose message contains every
 * one of `parts` (the argument, what was expected, what was given), and that it left no tensor behind.
 */
export function expectThrows(fn, cls, parts, label = '') {
  const before = tf.memory().numTensors;
  let caught;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `${label} expected a ${cls.name}`).toBeInstanceOf(cls);
  expect(caught.name).toBe(cls.name);
  for (const p of parts) expect(caught.message, label).toContain(p);
  expect(tf.memory().numTensors, 'a failed call left tensors behind').toBe(before);
  return caught;
}

/** Builds a module after manualSeed(seed). */
export function seeded(seed, make) {
  manualSeed(seed);
  return make();
}

/** Parameter shapes by key, in namedParameters() order. */
export function paramShapes(m) {
  return m.namedParameters().map(([k, v]) => [k, v.shape]);
}

/** Disposes every tensor of a state dict. */
export function disposeAll(sd) {
  tf.dispose(Object.values(sd));
}

/** An output sink for a CLI's `main(argv, io)`: io.out / io.err collect text, get() returns it. */
export function captureIo(extra = {}) {
  let out = '';
  let err = '';
  return {
    io: {
      out: (t) => {
        out += t;
      },
      err: (t) => {
        err += t;
      },
      ...extra,
    },
    get: () => ({ out, err }),
  };
}

/** t[i] along axis 0 (dropping that axis). */
export function at(t, i) {
  const begin = t.shape.map((_, k) => (k === 0 ? i : 0));
  const size = t.shape.map((s, k) => (k === 0 ? 1 : s));
  return tf.reshape(tf.slice(t, begin, size), t.shape.slice(1));
}

/** t[begin:begin+size] along `axis` (keeping the axis). */
export function sliceAxis(t, axis, begin, size) {
  const b = t.shape.map((_, k) => (k === axis ? begin : 0));
  const s = t.shape.map((n, k) => (k === axis ? size : n));
  return tf.slice(t, b, s);
}

/**
 * A gradgrad_* fixture's check on `module` (tooling/golden, gradGrad): the worst absolute error of
 * y, relative error of the penalty and relative error of the second gradients against PyTorch's;
 * leaves no tensor behind.
 */
export function checkGradGrad(module, y, group, name) {
  const { t } = fixture(group, name);
  try {
    const r = gradGrad(module, y, t);
    return { y: r.y, penalty: r.penalty, grad: r.grad };
  } finally {
    tf.dispose(Object.values(t));
  }
}

/**
 * Runs fixtures/<group>/<name> through its tooling/golden check (the one the harness runs) with
 * the rnnkit API given by name, and asserts it is within the check's tolerances and left no
 * tensor behind. Returns the check's result.
 */
export function expectParity(group, name, api) {
  const r = check(group, name, api, { loadSafetensors, safetensorsMetadata });
  const tol = tolerance(r.check);
  expect(r.leaked, `${name}: tensors left behind`).toBe(0);
  expect(r.forward, `${name}: forward error at ${r.forwardAt}`).toBeLessThanOrEqual(tol.forward);
  expect(r.grad, `${name}: gradient error at ${r.gradAt}`).toBeLessThanOrEqual(tol.grad);
  return r;
}
