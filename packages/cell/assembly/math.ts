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

/** p 2^n, n = t - ROUND as an integer, as 2^(n >> 1) 2^(n - (n >> 1)), so n = 128 stays finite. */
@inline
function scale(p: v128, t: v128): v128 {
  const n = i32x4.sub(t, k(ROUND));
  const h = i32x4.shr_s(n, 1);
  const s1 = i32x4.shl(i32x4.add(h, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(i32x4.sub(n, h), i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/**
 * sigmoid 1 / (1 + e^-x) or, when `tanh` (a constant where inlined), tanh as sign(x) (1 - e) /
 * (1 + e), e = e^(-2|x|) (within 1e-7 absolute), on four lanes, of x0 and, when `pair` (a
 * constant where inlined, as `tanh`), x1 at once: returns x0's, stores x1's at byte offset at1.
 *
 * The exponentials are Cephes' expf: x = n ln 2 + r, a degree-6 polynomial in r, then 2^n from
 * the exponent bits, within 2 ulp of Mathf.exp for x in [-87.3, 88.7], to which x is clamped (so
 * never 0 nor Infinity); NaN stays NaN. The polynomial's steps are `madd`s (fused in the
 * relaxed-SIMD build). n = round(x log2 e) comes from adding and subtracting 1.5 * 2^23, which
 * also leaves n as an integer in the low bits of the sum. The two activations' steps alternate,
 * so that the core runs both chains of dependent operations at once (one alone waits on each
 * step's latency: the gates of an LSTM or GRU step of hidden size 64 took 1.04-1.08x as long one
 * by one); each lane's operations are those of one activation, so the results do not depend on
 * the pairing.
 */
@inline
export function act2(tanh: bool, pair: bool, x0: v128, x1: v128, at1: usize): v128 {
  const one = k(ONE);
  const m2 = k(MINUS_TWO);
  let a0 = tanh ? f32x4.mul(f32x4.abs(x0), m2) : f32x4.neg(x0);
  let a1 = tanh ? f32x4.mul(f32x4.abs(x1), m2) : f32x4.neg(x1);
  // pmax/pmin (one instruction each) clamp as max/min do; x first, so NaN stays NaN.
  a0 = f32x4.pmin(f32x4.pmax(a0, k(LO)), k(HI));
  a1 = f32x4.pmin(f32x4.pmax(a1, k(LO)), k(HI));
  const t0 = f32x4.add(f32x4.mul(a0, k(LOG2E)), k(ROUND));
  const t1 = f32x4.add(f32x4.mul(a1, k(LOG2E)), k(ROUND));
  const n0 = f32x4.sub(t0, k(ROUND));
  const n1 = f32x4.sub(t1, k(ROUND));
  let r0 = f32x4.sub(a0, f32x4.mul(n0, k(LN2_HI)));
  let r1 = f32x4.sub(a1, f32x4.mul(n1, k(LN2_HI)));
  r0 = f32x4.sub(r0, f32x4.mul(n0, k(LN2_LO)));
  r1 = f32x4.sub(r1, f32x4.mul(n1, k(LN2_LO)));
  let p0 = k(P0);
  let p1 = p0;
  p0 = madd(p0, r0, k(P1));
  p1 = madd(p1, r1, k(P1));
  p0 = madd(p0, r0, k(P2));
  p1 = madd(p1, r1, k(P2));
  p0 = madd(p0, r0, k(P3));
  p1 = madd(p1, r1, k(P3));
  p0 = madd(p0, r0, k(P4));
  p1 = madd(p1, r1, k(P4));
  p0 = madd(p0, r0, k(P5));
  p1 = madd(p1, r1, k(P5));
  p0 = f32x4.add(madd(p0, f32x4.mul(r0, r0), r0), one);
  p1 = f32x4.add(madd(p1, f32x4.mul(r1, r1), r1), one);
  const e0 = scale(p0, t0);
  const e1 = scale(p1, t1);
  if (!tanh) {
    if (pair) v128.store(at1, f32x4.div(one, f32x4.add(one, e1)));
    return f32x4.div(one, f32x4.add(one, e0));
  }
  const sign = i32x4.splat(0x80000000);
  const y0 = f32x4.div(f32x4.sub(one, e0), f32x4.add(one, e0));
  const y1 = f32x4.div(f32x4.sub(one, e1), f32x4.add(one, e1));
  if (pair) v128.store(at1, v128.or(y1, v128.and(x1, sign)));
  return v128.or(y0, v128.and(x0, sign));
}

/** `act2` of x alone. */
@inline
export function act(tanh: bool, x: v128): v128 {
  return act2(tanh, false, x, x, 0);
}
