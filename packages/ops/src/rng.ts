import * as tf from '@tensorflow/tfjs-core';
import { assertInt } from './guards.js';

/** xoshiro128** seeded through splitmix32: fast, 2^128-1 period, same stream on every platform. */
class Generator {
  private s = new Uint32Array(4);
  private spare: number | null = null;

  seed(seed: number): void {
    let z = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
      this.s[i] = (t ^ (t >>> 16)) >>> 0;
    }
    this.spare = null;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 24 random bits (exact in float32). */
  next(): number {
    return (this.nextU32() >>> 8) / 16777216;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

const rng = new Generator();
rng.seed((Math.random() * 2 ** 32) >>> 0);

/** Makes every later initialisation and dropout mask reproducible. */
export function manualSeed(seed: number): void {
  rng.seed(assertInt(seed, 'manualSeed(seed)', 0));
}

/**
 * Uniform numbers in [0, 1) (24 random bits): from a generator of its own when `seed` is given
 * (reproducible whatever else draws), else from the global one that `manualSeed` seeds.
 */
export function randomStream(seed?: number): () => number {
  if (seed === undefined) return () => rng.next();
  const own = new Generator();
  own.seed(assertInt(seed, 'randomStream(seed)', 0));
  return () => own.next();
}

/** Float32 values drawn from U(low, high). */
export function uniform(shape: number[], low: number, high: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  const span = high - low;
  for (let i = 0; i < n; i++) data[i] = low + span * rng.next();
  return tf.tensor(data, shape, 'float32');
}

/** Float32 values drawn from N(mean, std^2). */
export function normal(shape: number[], mean = 0, std = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = mean + std * rng.normal();
  return tf.tensor(data, shape, 'float32');
}

/** A dropout mask: each element is 1/(1-p) with probability 1-p, else 0. */
export function dropoutMask(shape: number[], p: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  const keep = 1 / (1 - p);
  for (let i = 0; i < n; i++) data[i] = rng.next() >= p ? keep : 0;
  return tf.tensor(data, shape, 'float32');
}
