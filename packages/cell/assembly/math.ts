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
 * e^x on four lanes (Cephes' expf: x = n ln 2 + r, a degree-6 polynomial in r, then 2^n from the
 * exponent bits), within 2 ulp of Mathf.exp for x in [-87.3, 88.7], to which x is clamped (so
 * never 0 nor Infinity); NaN stays NaN. Its polynomial's steps are `madd`s (fused in the
 * relaxed-SIMD build).
 */
@inline
function expv(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.3)), f32x4.splat(88.7));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  p = f32x4.add(madd(p, f32x4.mul(r, r), r), f32x4.splat(1));
  // times 2^n as 2^(n >> 1) 2^(n - (n >> 1)), so n = 128 (x near 88.7) stays finite.
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const n1 = i32x4.shr_s(ni, 1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(i32x4.sub(ni, n1), i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/** 1 / (1 + e^-x) on four lanes. */
@inline
export function sigmoidv(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, expv(f32x4.neg(x))));
}

/** tanh on four lanes: sign(x) (1 - e) / (1 + e), e = e^(-2|x|); within 1e-7 absolute. */
@inline
export function tanhv(x: v128): v128 {
  const one = f32x4.splat(1);
  const e = expv(f32x4.mul(f32x4.abs(x), f32x4.splat(-2)));
  const t = f32x4.div(f32x4.sub(one, e), f32x4.add(one, e));
  return v128.or(t, v128.and(x, i32x4.splat(0x80000000)));
}

