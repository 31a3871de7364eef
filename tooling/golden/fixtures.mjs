// Reading the committed PyTorch fixtures: file bytes, and an error measure for comparisons.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** Names (without .safetensors) of the fixtures in a group, sorted. */
export function listFixtures(group) {
  return readdirSync(`${FIXTURES}${group}`)
    .filter((f) => f.endsWith('.safetensors'))
    .map((f) => f.slice(0, -'.safetensors'.length))
    .sort();
}

/** The bytes of fixtures/<group>/<name>.safetensors. */
export function readFixture(group, name) {
  return new Uint8Array(readFileSync(`${FIXTURES}${group}/${name}.safetensors`));
}

/**
 * Max |actual - expected| (abs) and that divided by max(1, max |expected|) (rel); throws when shapes differ.
 */
export function compare(actual, expected) {
  if (!tf.util.arraysEqual(actual.shape, expected.shape)) {
    throw new Error(`shape mismatch: got [${actual.shape}] expected [${expected.shape}]`);
  }
  const a = actual.dataSync();
  const e = expected.dataSync();
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - e[i]);
    abs = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(abs, d);
    scale = Math.max(scale, Math.abs(e[i]));
  }
  return { abs, rel: abs / Math.max(1, scale) };
}
