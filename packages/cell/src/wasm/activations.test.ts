// The kernel's activations (assembly/math.ts: a rational tanh, the sigmoid from it), through its
// export `tanhInPlace`, on each build this runtime has: within their stated error of Math.tanh,
// never beyond [-1, 1], odd, exact at 0, NaN kept, and the same value in a lane as alone (a
// length that is not a multiple of 4 runs its tail one by one).
import { describe, expect, it } from 'vitest';
import { KERNEL_WASM } from './kernel-wasm.js';
import { BUILDS, relaxedSimdSupported } from './loader.js';

type Exports = { memory: WebAssembly.Memory; tanhInPlace(x: number, n: number): void };

const builds = BUILDS.filter((b) => b === 'simd' || relaxedSimdSupported());
const AT = 1 << 16;

/** tanh of `xs` in the kernel of `build`, as float32. */
function kernelTanh(build: (typeof BUILDS)[number], xs: Float32Array): Float32Array {
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536 });
  const bytes = Uint8Array.from(atob(KERNEL_WASM[build].plain), (ch) => ch.charCodeAt(0));
  const k = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
    .exports as unknown as Exports;
  new Float32Array(memory.buffer, AT, xs.length).set(xs);
  k.tanhInPlace(AT, xs.length);
  return new Float32Array(memory.buffer, AT, xs.length).slice();
}

describe.each(builds)('the kernel tanh (%s build)', (build) => {
  it('is within 3.4e-7 of Math.tanh over [-20, 20], never beyond [-1, 1], and odd', () => {
    const n = 400_001;
    const xs = Float32Array.from({ length: n }, (_, i) => -20 + (40 * i) / (n - 1));
    const ys = kernelTanh(build, xs);
    let [worst, largest, odd] = [0, 0, true];
    for (let i = 0; i < n; i++) {
      worst = Math.max(worst, Math.abs(ys[i]! - Math.tanh(xs[i]!)));
      largest = Math.max(largest, Math.abs(ys[i]!));
      odd &&= ys[n - 1 - i] === -ys[i]!;
    }
    expect(worst).toBeLessThanOrEqual(3.4e-7);
    expect(worst).toBeGreaterThan(0); // an approximation, not Math.tanh
    expect(largest).toBe(1);
    expect(odd).toBe(true);
  });

  it('keeps 0 and NaN, saturates at the infinities, and gives a tail element its lane value', () => {
    const xs = Float32Array.of(
      0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      0.3,
      1e-20,
      -4.2,
    );
    const ys = kernelTanh(build, xs);
    expect(Array.from(ys.subarray(0, 4))).toEqual([0, Number.NaN, 1, -1]);
    // 0.3, 1e-20 and -4.2 ran one by one (7 = 4 + 3); in lanes they give the same.
    const lanes = kernelTanh(build, Float32Array.of(0.3, 1e-20, -4.2, 0));
    expect(Array.from(ys.subarray(4))).toEqual(Array.from(lanes.subarray(0, 3)));
    expect(ys[5]).toBe(Math.fround(1e-20));
  });
});
