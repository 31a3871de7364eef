// Helpers of the ported tests: the shared assertions, a seeded shuffle (Python's random.shuffle in
// the originals) and fixture reading.
import { readFixture } from '@rnnkit/golden';
import { loadSafetensors, safetensorsMetadata } from '@rnnkit/ops';
import type * as tf from '@tensorflow/tfjs-core';

export {
  expectClose,
  expectEqual,
  expectNoLeak,
  expectThrows,
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

/** A PyTorch fixture of tooling/golden: its tensors (the caller disposes them) and config. */
export function fixture(
  group: string,
  name: string,
): { t: Record<string, tf.Tensor>; config: any } {
  const bytes = readFixture(group, name);
  return { t: loadSafetensors(bytes), config: JSON.parse(safetensorsMetadata(bytes).config) };
}
