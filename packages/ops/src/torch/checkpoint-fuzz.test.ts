import {
  applyByteMutation,
  type ByteMutation,
  byteMutations,
  fuzzLoader,
} from '@rnnkit/vitest-config/fuzz';
import { torchFixture } from '@rnnkit/vitest-config/torch';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelFileError, PickleSecurityError } from '../errors.js';
import { loadTorchCheckpoint } from './checkpoint.js';

type Mutation = ByteMutation | { kind: 'opcode'; pos: number; value: number };

/** Pickle opcodes and small ints: flips that make structurally different pickles. */
const OPCODES = [
  0x28, 0x2e, 0x29, 0x4a, 0x4b, 0x4d, 0x4e, 0x51, 0x52, 0x58, 0x5d, 0x61, 0x62, 0x63, 0x65, 0x68,
  0x71, 0x73, 0x74, 0x75, 0x7d, 0x80, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x93, 0x94, 0xff, 0, 1, 2,
  7,
];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  ...byteMutations,
  fc.record({
    kind: fc.constant('opcode' as const),
    pos: fc.nat(),
    value: fc.constantFrom(...OPCODES),
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
  if (m.kind !== 'opcode') return applyByteMutation(bytes, m);
  if (bytes.length === 0) return bytes;
  const [a, b] = pickleSpan(bytes);
  const out = bytes.slice();
  out[a + (m.pos % Math.max(1, b - a))] = m.value;
  return out;
}

describe('loadTorchCheckpoint fuzzing (fast-check)', () => {
  it('mutated checkpoints load or throw ModelFileError/PickleSecurityError, quickly, leaking nothing', () => {
    const files = ['nested.pt', 'views.pt', 'dtypes.pt', 'legacy.pt', 'shared.pt'].map(
      torchFixture,
    );
    let security = 0;
    const seen = fuzzLoader({
      files,
      mutation,
      apply,
      load: loadTorchCheckpoint,
      rejects: (e) => {
        if (e instanceof PickleSecurityError) security++;
        return e instanceof PickleSecurityError || e instanceof ModelFileError;
      },
      prefix: /^loadTorchCheckpoint(\(bytes\))?: /,
      numRuns: 600,
      kindLength: 30,
    });
    // not vacuous: some mutants loaded, many different checks fired, some named a global
    expect(seen.loaded).toBeGreaterThan(10);
    expect(seen.rejected.size).toBeGreaterThanOrEqual(10);
    expect(security).toBeGreaterThan(0);
  });
});
