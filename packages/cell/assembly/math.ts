// Activations of the kernel (AssemblyScript): scalar and on four SIMD lanes; and its multiply-add.

/**
 * a * b + c on four lanes: one fused multiply-add (rounded once) in the relaxed-SIMD build
 * (`--enable relaxed-simd`, where f32x4.relaxed_madd is an FMA instruction on x86 with FMA and on
 * ARM), a multiply then an add (rounded twice) in the plain SIMD build. The branch is decided at
 * compile time.
 */
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline
export function sigmoid(v: f32): f32 {
  return 1 / (1 + Mathf.exp(-v));
}

/**
 * The activations' constants, in the module's static data (below the host's buffers, see
 * src/wasm/memory.ts): a lane broadcast from memory is one instruction, where V8 builds a v128
 * constant from immediates in three or four inside every loop iteration.
 */
const CONSTANTS = memory.data<f32>([
  -87.3, 88.7, 1.44269504088896341, 0.693359375, -2.1219444e-4, 1.98756915e-4, 1.3981999507e-3,
  8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1, 1, -2, 12582912,
]);
const LO = 0;
const HI = 1;
const LOG2E = 2;
const LN2_HI = 3;
const LN2_LO = 4;
const P0 = 5;
const P1 = 6;
const P2 = 7;
const P3 = 8;
const P4 = 9;
const P5 = 10;
const ONE = 11;
const MINUS_TWO = 12;
/** 1.5 * 2^23: t + ROUND - ROUND rounds t to an integer (ties to even) for |t| < 2^22. */
const ROUND = 13;

/** Constant `i` of CONSTANTS on four lanes. */
@inline
function k(i: i32): v128 {
  return v128.load32_splat(CONSTANTS + (<usize>i << 2));
}

/**
 * e^x on four lanes (Cephes' expf: x = n ln 2 + r, a degree-6 polynomial in r, then 2^n from the
 * exponent bits), within 2 ulp of Mathf.exp for x in [-87.3, 88.7], to which x is clamped (so
 * never 0 nor Infinity); NaN stays NaN. Its polynomial's steps are `madd`s (fused in the
 * relaxed-SIMD build). n = round(x log2 e) comes from adding and subtracting 1.5 * 2^23, which
 * also leaves n as an integer in the low bits of the sum.
 */
@inline
function expv(x: v128): v128 {
  // pmax/pmin (one instruction each) clamp as max/min do; x first, so NaN stays NaN.
  x = f32x4.pmin(f32x4.pmax(x, k(LO)), k(HI));
  const t = f32x4.add(f32x4.mul(x, k(LOG2E)), k(ROUND));
  const n = f32x4.sub(t, k(ROUND));
  let r = f32x4.sub(x, f32x4.mul(n, k(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, k(LN2_LO)));
  let p = k(P0);
  p = madd(p, r, k(P1));
  p = madd(p, r, k(P2));
  p = madd(p, r, k(P3));
  p = madd(p, r, k(P4));
  p = madd(p, r, k(P5));
  p = f32x4.add(madd(p, f32x4.mul(r, r), r), k(ONE));
  // times 2^n as 2^(n >> 1) 2^(n - (n >> 1)), so n = 128 (x near 88.7) stays finite.
  const ni = i32x4.sub(t, k(ROUND));
  const n1 = i32x4.shr_s(ni, 1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(i32x4.sub(ni, n1), i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/** 1 / (1 + e^-x) on four lanes. */
@inline
export function sigmoidv(x: v128): v128 {
  const one = k(ONE);
  return f32x4.div(one, f32x4.add(one, expv(f32x4.neg(x))));
}

/** tanh on four lanes: sign(x) (1 - e) / (1 + e), e = e^(-2|x|); within 1e-7 absolute. */
@inline
export function tanhv(x: v128): v128 {
  const one = k(ONE);
  const e = expv(f32x4.mul(f32x4.abs(x), k(MINUS_TWO)));
  const t = f32x4.div(f32x4.sub(one, e), f32x4.add(one, e));
  return v128.or(t, v128.and(x, i32x4.splat(0x80000000)));
}

