// Helpers of the ported tests: the shared assertions and fixture reading, and a seeded shuffle
// (Python's random.shuffle in the originals).

export {
  checkGradGrad,
  expectClose,
  expectEqual,
  expectNoLeak,
  expectParity,
  expectThrows,
  fixture,
  values,
} from '@rnnkit/vitest-config/helpers';

/** A copy of `items` in a pseudo-random order fixed by `seed`. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = (seed * 2654435761 + 1) >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
