import { compare, readFixture } from '@rnnkit/golden';
import type * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { loadSafetensors, safetensorsMetadata } from './safetensors.js';

/** A golden fixture: its tensors and parsed config. The caller disposes `t`. */
export function fixture(
  group: string,
  name: string,
): { t: Record<string, tf.Tensor>; config: any } {
  const bytes = readFixture(group, name);
  return { t: loadSafetensors(bytes), config: JSON.parse(safetensorsMetadata(bytes).config) };
}

/** Asserts actual matches expected within `tol` (absolute for forward values, relative to scale for gradients). */
export function expectClose(
  actual: tf.Tensor,
  expected: tf.Tensor,
  tol = 1e-5,
  kind: 'abs' | 'rel' = 'abs',
): void {
  expect(actual.shape).toEqual(expected.shape);
  expect(compare(actual, expected)[kind]).toBeLessThanOrEqual(tol);
}

export { expectNoLeak } from '@rnnkit/vitest-config/helpers';
