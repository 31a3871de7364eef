// Helpers for the behaviour tests of @rnnkit/rnn (not built into dist).
import { type Module, manualSeed, type StateDict } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { GRU } from './gru.js';
import { LSTM, type LSTMOptions } from './lstm.js';
import type { ForwardOptions, RecurrentLayer, RecurrentOptions } from './recurrent.js';
import { RNN, type RNNOptions } from './rnn.js';

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

/** The three layer classes behind one calling convention. */
export interface Run {
  output: tf.Tensor;
  hN: tf.Tensor;
  /** LSTM only */
  cN?: tf.Tensor;
  /** Every returned tensor (to count and dispose). */
  all: tf.Tensor[];
}

export interface LayerKind {
  name: 'RNN' | 'LSTM' | 'GRU';
  gates: number;
  make: (opts: Record<string, unknown>) => RecurrentLayer;
  /** forward(input, h0 | [h0, c0], opts): states are passed only when given. */
  run: (
    m: RecurrentLayer,
    input: tf.Tensor,
    h0?: tf.Tensor,
    c0?: tf.Tensor,
    opts?: ForwardOptions,
  ) => Run;
}

export const KINDS: LayerKind[] = [
  {
    name: 'RNN',
    gates: 1,
    make: (o) => new RNN(o as unknown as RNNOptions),
    run: (m, x, h0, _c0, opts) => {
      const [output, hN] = (m as RNN).forward(x, h0, opts);
      return { output, hN, all: [output, hN] };
    },
  },
  {
    name: 'LSTM',
    gates: 4,
    make: (o) => new LSTM(o as unknown as LSTMOptions),
    run: (m, x, h0, c0, opts) => {
      const [output, [hN, cN]] = (m as LSTM).forward(
        x,
        h0 || c0 ? [h0 as tf.Tensor, c0 as tf.Tensor] : undefined,
        opts,
      );
      return { output, hN, cN, all: [output, hN, cN] };
    },
  },
  {
    name: 'GRU',
    gates: 3,
    make: (o) => new GRU(o as unknown as RecurrentOptions),
    run: (m, x, h0, _c0, opts) => {
      const [output, hN] = (m as GRU).forward(x, h0, opts);
      return { output, hN, all: [output, hN] };
    },
  },
];

/** t[i] along axis 0 (dropping that axis). */
export function at(t: tf.Tensor, i: number): tf.Tensor {
  const begin = t.shape.map((_, k) => (k === 0 ? i : 0));
  const size = t.shape.map((s, k) => (k === 0 ? 1 : s));
  return tf.reshape(tf.slice(t, begin, size), t.shape.slice(1));
}

/** x[begin:begin+size] along `axis` (keeping the axis). */
export function sliceAxis(t: tf.Tensor, axis: number, begin: number, size: number): tf.Tensor {
  const b = t.shape.map((_, k) => (k === axis ? begin : 0));
  const s = t.shape.map((n, k) => (k === axis ? size : n));
  return tf.slice(t, b, s);
}
