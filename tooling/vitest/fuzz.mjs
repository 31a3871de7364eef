// Fuzzing a file loader with fast-check: mutated valid files either load or throw the loader's own
// error, quickly and leaking nothing (safetensors, torch checkpoints).
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect } from 'vitest';

/** Mutations any binary file takes: one byte set, a truncation, up to 8 bytes deleted or inserted. */
export const byteMutations = [
  fc.record({
    kind: fc.constant('byte'),
    pos: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant('truncate'), pos: fc.nat() }),
  fc.record({
    kind: fc.constant('delete'),
    pos: fc.nat(),
    n: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({
    kind: fc.constant('insert'),
    pos: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
];

/** Applies a mutation of byteMutations to a copy of `bytes` (`bytes` itself if there is no byte to set). */
export function applyByteMutation(bytes, m) {
  const len = bytes.length;
  switch (m.kind) {
    case 'byte': {
      if (len === 0) return bytes;
      const out = bytes.slice();
      out[m.pos % len] = m.value;
      return out;
    }
    case 'truncate':
      return bytes.slice(0, m.pos % (len + 1));
    case 'delete': {
      const p = m.pos % (len + 1);
      return new Uint8Array([...bytes.subarray(0, p), ...bytes.subarray(p + m.n)]);
    }
    case 'insert': {
      const p = m.pos % (len + 1);
      return new Uint8Array([...bytes.subarray(0, p), ...m.bytes, ...bytes.subarray(p)]);
    }
  }
  throw new TypeError(`applyByteMutation: unknown mutation kind ${m.kind}`);
}

/**
 * Loads `numRuns` mutants of `files` (1 to 4 mutations drawn from `mutation`, applied by `apply`):
 * each either loads (every value a tf.Tensor, then disposed) or throws an error that `rejects`
 * accepts, with a message `prefix` (a RegExp from ^) then text; every call under 1 s, no tensor
 * leaked. Returns how many loaded and the kinds of rejection seen (each message without its
 * prefix, quoted names, shapes and numbers, cut to `kindLength` characters).
 */
export function fuzzLoader({ files, mutation, apply, load, rejects, prefix, numRuns, kindLength }) {
  const seen = { loaded: 0, rejected: new Set() };
  let slowest = 0;
  const before = tf.memory().numTensors;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: files.length - 1 }),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      (which, muts) => {
        const bytes = muts.reduce(apply, files[which]);
        const t0 = performance.now();
        try {
          const out = load(bytes);
          seen.loaded++;
          for (const t of Object.values(out)) expect(t).toBeInstanceOf(tf.Tensor);
          tf.dispose(Object.values(out));
        } catch (e) {
          if (!rejects(e)) throw e;
          expect(e.message).toMatch(new RegExp(`${prefix.source}\\S`));
          seen.rejected.add(
            e.message
              .replace(prefix, '')
              .replace(/"[^"]*"|\[[^\]]*\]|\d+/g, '_')
              .slice(0, kindLength),
          );
        }
        slowest = Math.max(slowest, performance.now() - t0);
        expect(tf.memory().numTensors).toBe(before);
      },
    ),
    { numRuns },
  );
  expect(slowest).toBeLessThan(1000);
  return seen;
}
