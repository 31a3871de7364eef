// What sgemm's inner loop reaches on data in L1 cache: the ceiling the profile's bound line divides by.
import { kernelBuild } from '@rnnkit/cell/internal';

/** K of the L1 probe: a 4×K block of a and a K×8 strip of b (1.5 KB), as sgemm's inner loop reads them. */
const PROBE_K = 32;
const probes = new Map<boolean, (reps: number) => number>();

/**
 * GFLOP/s of sgemm's inner loop (assembly/sgemm.ts, block4x8: per k, two f32x4 loads of b,
 * four splat loads of a, eight f32x4 multiplies and eight adds into eight accumulators; with
 * `relaxed`, eight f32x4.relaxed_madd instead, as the kernel's relaxed-SIMD build) on data in L1
 * cache, on this thread: what the kernel's products could reach if memory cost nothing. Best of
 * five runs of about 20 ms. `relaxed` defaults to the build the kernel uses now.
 */
export function l1Gflops(relaxed = kernelBuild() === 'relaxed'): number {
  let probe = probes.get(relaxed);
  if (!probe) {
    probe = l1Probe(relaxed);
    probes.set(relaxed, probe);
  }
  const flops = (reps: number) => reps * PROBE_K * 64;
  // Short calls for 50 ms: V8 tiers the function up to its optimising compiler meanwhile.
  let t0 = performance.now();
  while (performance.now() - t0 < 50) probe(200);
  t0 = performance.now();
  probe(2000);
  const reps = Math.max(100, Math.round((2000 * 20) / Math.max(performance.now() - t0, 1e-3)));
  let best = 0;
  for (let i = 0; i < 5; i++) {
    t0 = performance.now();
    probe(reps);
    best = Math.max(best, flops(reps) / ((performance.now() - t0) * 1e6));
  }
  return best;
}

/** Builds the probe: a WebAssembly module (SIMD) exporting run(reps) and its memory. */
function l1Probe(relaxed: boolean): (reps: number) => number {
  const uleb = (n: number): number[] => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n !== 0) b |= 0x80;
      out.push(b);
    } while (n !== 0);
    return out;
  };
  const i32 = (n: number): number[] => {
    // i32.const with its signed LEB128 immediate (n < 2^31)
    const out: number[] = [0x41];
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
      out.push(b | 0x80);
    }
  };
  const simd = (op: number) => [0xfd, ...uleb(op)];
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const [F32X4_MUL, F32X4_ADD, V128_LOAD, LOAD32_SPLAT, EXTRACT] = [0xe6, 0xe4, 0x00, 0x09, 0x1f];
  const RELAXED_MADD = 0x105;
  const ROW = PROBE_K * 4; // bytes of a row of a
  const STRIP = 4 * ROW; // b's strip follows the 4 rows of a
  // Locals: 0 reps (param); 1 pa, 2 pb (i32); 3..10 accumulators, 11 b0, 12 b1, 13 x (v128).
  const madd = (acc: number, b: number) =>
    relaxed
      ? [...get(13), ...get(b), ...get(acc), ...simd(RELAXED_MADD), ...set(acc)]
      : [...get(acc), ...get(13), ...get(b), ...simd(F32X4_MUL), ...simd(F32X4_ADD), ...set(acc)];
  const body = [
    2,
    2,
    0x7f,
    11,
    0x7b,
    ...[0x02, 0x40, 0x03, 0x40], // block, loop (reps)
    ...get(0),
    0x45,
    0x0d,
    1, // reps == 0: done
    ...i32(0),
    ...set(1),
    ...i32(STRIP),
    ...set(2),
    0x03,
    0x40, // loop (k)
    ...get(2),
    ...simd(V128_LOAD),
    4,
    0,
    ...set(11),
    ...get(2),
    ...simd(V128_LOAD),
    4,
    16,
    ...set(12),
    ...[0, 1, 2, 3].flatMap((r) => [
      ...get(1),
      ...simd(LOAD32_SPLAT),
      2,
      ...uleb(r * ROW),
      ...set(13),
      ...madd(3 + 2 * r, 11),
      ...madd(4 + 2 * r, 12),
    ]),
    ...[...get(1), ...i32(4), 0x6a, ...set(1)], // pa += 4
    ...[...get(2), ...i32(32), 0x6a, ...set(2)], // pb += 32
    ...[...get(1), ...i32(ROW), 0x49, 0x0d, 0], // pa < ROW: next k
    0x0b,
    ...[...get(0), ...i32(1), 0x6b, ...set(0)], // reps -= 1
    ...[0x0c, 0, 0x0b, 0x0b],
    ...get(3),
    ...[4, 5, 6, 7, 8, 9, 10].flatMap((a) => [...get(a), ...simd(F32X4_ADD)]),
    ...simd(EXTRACT),
    0,
    0x0b,
  ];
  const section = (id: number, bytes: number[]) => [id, ...uleb(bytes.length), ...bytes];
  const str = (s: string) => [s.length, ...[...s].map((ch) => ch.charCodeAt(0))];
  const bytes = new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]), // (i32) -> f32
    ...section(3, [1, 0]),
    ...section(5, [1, 0, 1]), // one page
    ...section(7, [2, ...str('run'), 0, 0, ...str('memory'), 2, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const { run, memory } = instance.exports as {
    run: (reps: number) => number;
    memory: WebAssembly.Memory;
  };
  // Small normal values: no denormals, no overflow.
  new Float32Array(memory.buffer, 0, STRIP / 4 + PROBE_K * 8).fill(1e-3);
  return run;
}
