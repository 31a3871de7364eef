// Helpers shared by the reliability suite: inputs it tracks and disposes, and the backend it runs on.
import * as tf from '@tensorflow/tfjs-core';

/** Input tensors created by a bad-input case; the harness disposes them after the call. */
const tracked: tf.Tensor[] = [];

function track<T extends tf.Tensor>(t: T): T {
  tracked.push(t);
  return t;
}

/** Disposes every tensor the helpers below created since the last call. */
export function releaseTracked(): void {
  tf.dispose(tracked.splice(0));
}

/** Deterministic float32 values (sin of the flat index), not tracked. */
export function det(shape: number[], phase = 0): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.7 + phase + 1) * 0.9;
  return tf.tensor(data, shape, 'float32');
}

/** A tracked float32 input of this shape (deterministic values). */
export function x(...shape: number[]): tf.Tensor {
  return track(det(shape));
}

/** A tracked float32 tensor with one value replaced (NaN, Infinity ...) at flat index `at`. */
export function withValue(shape: number[], value: number, at = 0): tf.Tensor {
  const t = det(shape);
  const data = t.dataSync().slice();
  t.dispose();
  data[at] = value;
  return track(tf.tensor(data, shape, 'float32'));
}

/** A tracked int32 tensor. */
export function ints(values: number[] | number[][], shape?: number[]): tf.Tensor {
  return track(tf.tensor(values as number[], shape, 'int32'));
}

/** A tracked tensor of any dtype. */
export function typed(shape: number[], dtype: 'int32' | 'bool' | 'float32'): tf.Tensor {
  return track(tf.zeros(shape, dtype));
}

/** A float32 tensor that was already disposed. */
export function gone(...shape: number[]): tf.Tensor {
  const t = det(shape);
  t.dispose();
  return t;
}

/** Every tensor in a nested result (tensor, array, object). */
export function tensorsIn(value: unknown): tf.Tensor[] {
  if (value instanceof tf.Tensor) return [value];
  if (Array.isArray(value)) return value.flatMap(tensorsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(tensorsIn);
  return [];
}

export { expectNoLeak, maxAbsDiff } from '@rnnkit/vitest-config/helpers';

/** The project's backend for this test file ("cpu" or "wasm"). */
export const PROJECT_BACKEND = (process.env.RNNKIT_BACKEND ?? 'cpu') as 'cpu' | 'wasm';
