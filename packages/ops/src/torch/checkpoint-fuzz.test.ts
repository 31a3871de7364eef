import { torchFixture } from '@rnnkit/vitest-config/torch';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelFileError, PickleSecurityError } from '../errors.js';
import { loadTorchCheckpoint } from './checkpoint.js';

type Mutation =
  | { kind: 'byte'; pos: number; value: number }
  | { kind: 'opcode'; pos: number; value: number }
  | { kind: 'truncate'; pos: number }
  | { kind: 'delete'; pos: number; n: number }
  | { kind: 'insert'; pos: number; bytes: Uint8Array };

/** Pickle opcodes and small ints: flips that make structurally different pickles. */
const OPCODES = [
  0x28, 0x2e, 0x29, 0x4a, 0x4b, 0x4d, 0x4e, 0x51, 0x52, 0x58, 0x5d, 0x61, 0x62, 0x63, 0x65, 0x68,
  0x71, 0x73, 0x74, 0x75, 0x7d, 0x80, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x93, 0x94, 0xff, 0, 1, 2,
  7,
];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('byte' as const),
    pos: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('opcode' as const),
    pos: fc.nat(),
    value: fc.constantFrom(...OPCODES),
  }),
  fc.record({ kind: fc.constant('truncate' as const), pos: fc.nat() }),
  fc.record({
    kind: fc.constant('delete' as const),
    pos: fc.nat(),
    n: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    pos: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
);

/** Where the pickle lies in a file: opcode flips land there (the zip members are stored). */
function pickleSpan(bytes: Uint8Array): [number, number] {
  const text = Array.from(bytes.subarray(0, 4096), (b) => String.fromCharCode(b)).join('');
  const start = Math.max(0, text.indexOf('\x80\x02'));
  const stop = text.indexOf('.PK', start);
  return [start, stop > start ? stop + 1 : Math.min(bytes.length, start + 600)];
}

function apply(bytes: Uint8Array, m: Mutation): Uint8Array {
  const len = bytes.length;
  switch (m.kind) {
    case 'byte':
    case 'opcode': {
      if (len === 0) return bytes;
      const [a, b] = m.kind === 'opcode' ? pickleSpan(bytes) : [0, len];
      const out = bytes.slice();
      out[a + (m.pos % Math.max(1, b - a))] = m.value;
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
}

describe('loadTorchCheckpoint fuzzing (fast-check)', () => {
  it('mutated checkpoints load or throw ModelFileError/PickleSecurityError, quickly, leaking nothing', () => {
    const files = ['nested.pt', 'views.pt', 'dtypes.pt', 'legacy.pt', 'shared.pt'].map(
      torchFixture,
    );
    const seen = { loaded: 0, rejected: new Set<string>(), security: 0 };
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
            const out = loadTorchCheckpoint(bytes);
            seen.loaded++;
            for (const t of Object.values(out)) expect(t).toBeInstanceOf(tf.Tensor);
            tf.dispose(Object.values(out));
          } catch (e) {
            if (e instanceof PickleSecurityError) seen.security++;
            else if (!(e instanceof ModelFileError)) throw e;
            expect((e as Error).message).toMatch(/^loadTorchCheckpoint(\(bytes\))?: \S/);
            seen.rejected.add(
              (e as Error).message
                .replace(/^loadTorchCheckpoint(\(bytes\))?: /, '')
                .replace(/"[^"]*"|\[[^\]]*\]|\d+/g, '_')
                .slice(0, 30),
            );
          }
          slowest = Math.max(slowest, performance.now() - t0);
          expect(tf.memory().numTensors).toBe(before);
        },
      ),
      { numRuns: 600 },
    );
    expect(slowest).toBeLessThan(1000);
    // not vacuous: some mutants loaded, many different checks fired, some named a global
    expect(seen.loaded).toBeGreaterThan(10);
    expect(seen.rejected.size).toBeGreaterThanOrEqual(10);
    expect(seen.security).toBeGreaterThan(0);
  });
});
