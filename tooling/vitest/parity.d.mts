import type { Adapter } from '@rnnkit/golden';

/** The recurrence paths every fixture runs on: the WebAssembly SIMD kernel (where loaded), plain JS. */
export declare const PATHS: readonly ['kernel', 'js'];
/** One test per fixture of `group` (default every one) and path, against PyTorch (see parity.mjs). */
export declare function parityTests(
  group: string,
  kinds: Record<string, Adapter>,
  names?: string[],
): void;
