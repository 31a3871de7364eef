// Helpers for the behaviour tests of @rnnkit/cell (not built into dist).
import { type Module, manualSeed, type StateDict } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** The tensor's values as a plain array (exact comparison with toEqual). */
export function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

/** Largest absolute value of a tensor (no spread: safe for large tensors). */
export function maxAbs(t: tf.Tensor): number {
  let m = 0;
  for (const v of t.dataSync()) m = Math.max(m, Math.abs(v));
  return m;
}

/** A seeded standard-normal float32 tensor. */
export function randn(shape: number[], seed = 1): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

/** Largest absolute difference between two tensors of the same shape. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/** Asserts same shape and values within `tol`. */
export function expectClose(a: tf.Tensor, b: tf.Tensor, tol = 1e-6): void {
  expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(tol);
}

/** Asserts same shape and exactly the same values (-0 equals 0). */
export function expectEqual(a: tf.Tensor, b: tf.Tensor): void {
  expect(a.shape).toEqual(b.shape);
  expect(values(a).map((v) => v + 0)).toEqual(values(b).map((v) => v + 0));
}

/** Runs fn and asserts the live tensor count afterwards equals the count before plus `kept`. */
export function expectNoLeak<T>(fn: () => T, kept = 0): T {
  const before = tf.memory().numTensors;
  const out = fn();
  expect(tf.memory().numTensors).toBe(before + kept);
  return out;
}

/**
 * Asserts fn throws an instance of `cls` (with a matching `name`) whose message contains every
 * one of `parts` (the argument, what was expected, what was given), and that it left no tensor behind.
 */
export function expectThrows(
  fn: () => unknown,
  cls: new (...args: any[]) => Error,
  parts: string[],
  label = '',
): Error {
  const before = tf.memory().numTensors;
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `${label} expected a ${cls.name}`).toBeInstanceOf(cls);
  const err = caught as Error;
  expect(err.name).toBe(cls.name);
  for (const p of parts) expect(err.message, label).toContain(p);
  expect(tf.memory().numTensors, 'a failed call left tensors behind').toBe(before);
  return err;
}

/** Builds a module after manualSeed(seed). */
export function seeded<M>(seed: number, make: () => M): M {
  manualSeed(seed);
  return make();
}

/** Parameter shapes by key, in namedParameters() order. */
export function paramShapes(m: Module): Array<[string, number[]]> {
  return m.namedParameters().map(([k, v]) => [k, v.shape]);
}

/** Disposes every tensor of a state dict. */
export function disposeAll(sd: StateDict): void {
  tf.dispose(Object.values(sd));
}
