// AssemblyScript: the register blocks of the kernel's matrix product (sgemm.ts).
import { madd } from './math';

/** Columns per strip of a packed B (see `pack` in sgemm.ts). */
export const NR = 8;

/**
 * c[i..i+R, j..j+4W] of sgemm: R rows of a times W vectors of 4 columns, from the packed strip of
 * columns j..j+8 at b and, when W > 2, the strip of columns j+d1.. (and when W > 4 that of j+d2..;
 * packed strips are `strip` bytes each, so d1 = 8 is the next): 4x8, 2x8,
 * 1x8 (W = 2), 2x16, 1x16 (W = 4) or 1x24 (W = 6). Inlined with constant R and W, so Binaryen
 * specialises it into a register block of R * W f32x4 accumulators q0..q7, in pairs (one strip of
 * one row): q0 q1 row 0; q2 q3 row 1 (W = 2) or row 0's second strip; q4 q5 row 2 (W = 2), row 1
 * (W = 4) or row 0's third strip; q6 q7 row 3 (W = 2) or row 1's second strip (W = 4). Every
 * element starts from its bias (or 0) and adds its K products in order, whatever block computes
 * it, so results do not depend on the block (nor on how threads split the rows).
 */
@inline
export function block(
  R: i32,
  W: i32,
  i: i32,
  j: i32,
  d1: i32,
  d2: i32,
  N: i32,
  K: i32,
  a: usize,
  b: usize,
  strip: usize,
  bias: usize,
  c: usize,
): void {
  const wide = W > 2;
  const three = W > 4;
  // The second and third strips: bytes from b (packed), bytes from column j (bias and c).
  const s1 = wide ? <usize>(d1 / NR) * strip : 0;
  const s2 = three ? <usize>(d2 / NR) * strip : 0;
  const o1 = <usize>d1 << 2;
  const o2 = <usize>d2 << 2;
  let q0 = f32x4.splat(0);
  let q1 = q0;
  let q2 = q0;
  let q3 = q0;
  let q4 = q0;
  let q5 = q0;
  if (bias) {
    const pbias = bias + (<usize>j << 2);
    q0 = v128.load(pbias);
    q1 = v128.load(pbias, 16);
    q2 = wide ? v128.load(pbias + o1) : q0;
    q3 = wide ? v128.load(pbias + o1, 16) : q1;
    q4 = three ? v128.load(pbias + o2) : q0;
    q5 = three ? v128.load(pbias + o2, 16) : q1;
  }
  // Rows after the first start from the same bias.
  if (!three) {
    q4 = q0;
    q5 = q1;
  }
  let q6 = q2;
  let q7 = q3;
  const rowA = <usize>K << 2;
  let pa = a + (<usize>i * <usize>K << 2);
  let pb = b;
  const end = pa + rowA;
  while (pa < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const b2 = wide ? v128.load(pb + s1) : b0;
    const b3 = wide ? v128.load(pb + s1, 16) : b1;
    const x0 = v128.load32_splat(pa);
    q0 = madd(x0, b0, q0);
    q1 = madd(x0, b1, q1);
    if (R * W > 2) {
      const x1 = wide ? x0 : v128.load32_splat(pa + rowA);
      q2 = madd(x1, b2, q2);
      q3 = madd(x1, b3, q3);
    }
    if (R * W > 4) {
      const b4 = three ? v128.load(pb + s2) : b0;
      const b5 = three ? v128.load(pb + s2, 16) : b1;
      const x2 = three ? x0 : v128.load32_splat(pa + (wide ? rowA : 2 * rowA));
      q4 = madd(x2, b4, q4);
      q5 = madd(x2, b5, q5);
      if (R * W > 6) {
        const x3 = wide ? x2 : v128.load32_splat(pa + 3 * rowA);
        q6 = madd(x3, b2, q6);
        q7 = madd(x3, b3, q7);
      }
    }
    pa += 4;
    pb += NR << 2;
  }
  const rowC = <usize>N << 2;
  const pc = c + ((<usize>i * <usize>N + <usize>j) << 2);
  v128.store(pc, q0);
  v128.store(pc, q1, 16);
  if (R * W > 2) {
    const pc1 = pc + (wide ? o1 : rowC);
    v128.store(pc1, q2);
    v128.store(pc1, q3, 16);
  }
  if (R * W > 4) {
    const pc2 = pc + (three ? o2 : wide ? rowC : 2 * rowC);
    v128.store(pc2, q4);
    v128.store(pc2, q5, 16);
    if (R * W > 6) {
      const pc3 = pc + (wide ? rowC + o1 : 3 * rowC);
      v128.store(pc3, q6);
      v128.store(pc3, q7, 16);
    }
  }
}

