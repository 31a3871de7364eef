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

/**
 * The activations' constants, in the module's static data (below the host's buffers, see
 * src/wasm/memory.ts): a lane broadcast from memory is one instruction, where V8 builds a v128
 * constant from immediates in three or four inside every loop iteration. tanh x = x P(x^2) /
 * Q(x^2) on [-9, 9], P and Q of degree 4 with P(0) = Q(0) = 1: a rational fit within 2e-8 of
 * tanh in exact arithmetic (scripts/fit-tanh.py derives it and checks the float32 evaluation).
 */
const CONSTANTS = memory.data<f32>([
  9, -9, 1, -1, 0.5, 0.13380344212055206, 0.0034947888925671577, 2.0596577087417245e-5,
  1.3338718574118502e-8, 0.4671366214752197, 0.025873908773064613, 3.284354170318693e-4,
  7.769733656459721e-7,
]);
const CLAMP = 0;
const ONE = 2;
const HALF = 4;
/** P's coefficients of x^2 .. x^8, then Q's. */
const P1 = 5;
const Q1 = 9;

/** Constant `i` of CONSTANTS on four lanes. */
@inline
function k(i: i32): v128 {
  return v128.load32_splat(CONSTANTS + (<usize>i << 2));
}

/** a clamped to [k(at + 1), k(at)]: -9 to 9, or -1 to 1 (a first: NaN stays NaN). */
@inline
function clamp(a: v128, at: i32): v128 {
  return f32x4.pmax(f32x4.pmin(a, k(at)), k(at + 1));
}

/** 1 + c1 z + c2 z^2 + c3 z^3 + c4 z^4, the coefficients c1.. from CONSTANTS[at]. */
@inline
function poly(z: v128, at: i32): v128 {
  let p = madd(k(at + 3), z, k(at + 2));
  p = madd(p, z, k(at + 1));
  p = madd(p, z, k(at));
  return madd(p, z, k(ONE));
}

/** tanh x on four lanes: x P(x^2) / Q(x^2) for x clamped to [-9, 9], then to [-1, 1]. */
@inline
function tanh4(x: v128): v128 {
  const c = clamp(x, CLAMP);
  const z = f32x4.mul(c, c);
  return clamp(f32x4.div(f32x4.mul(c, poly(z, P1)), poly(z, Q1)), ONE);
}

/**
 * sigmoid 1 / (1 + e^-x) as 1/2 + tanh(x / 2) / 2 or, when `tanh` (a constant where inlined), tanh,
 * on four lanes: within 2e-7 (sigmoid) and 3.4e-7 (tanh) of the exact values, absolute (at most
 * three units in the last place near 1; `madd` is fused in the relaxed-SIMD build), never beyond
 * [0, 1] and [-1, 1]; NaN stays NaN. No exponential: two polynomials and one division, about half
 * the operations of Cephes' expf and its division, which the kernel used before (1.11-1.14x on a
 * recurrence of hidden size 64).
 */
@inline
export function act(tanh: bool, x: v128): v128 {
  if (tanh) return tanh4(x);
  const h = k(HALF);
  return madd(tanh4(f32x4.mul(x, h)), h, h);
}

/** `act` of one float, as lane 0 of four (so that it is the lanes' value). */
@inline
export function act1(tanh: bool, x: f32): f32 {
  return f32x4.extract_lane(act(tanh, f32x4.splat(x)), 0);
}
