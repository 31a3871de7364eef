// AssemblyScript: a matrix transpose for the host (src/wasm/products.ts `sumOuter`, whose left
// operand the product reads row by row), several times faster than a JavaScript loop.

/** dst [C, R] = src [R, C]^T (float32, row-major, byte offsets; the two must not overlap). */
export function transpose(R: i32, C: i32, src: usize, dst: usize): void {
  const R4 = R & ~3;
  const C4 = C & ~3;
  const rowS = <usize>C << 2;
  const rowD = <usize>R << 2;
  for (let r = 0; r < R4; r += 4) {
    const s = src + (<usize>r * rowS);
    for (let c = 0; c < C4; c += 4) {
      // a 4x4 block: rows of src in, columns out
      const p = s + (<usize>c << 2);
      const r0 = v128.load(p);
      const r1 = v128.load(p + rowS);
      const r2 = v128.load(p + 2 * rowS);
      const r3 = v128.load(p + 3 * rowS);
      const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5);
      const t1 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
      const t2 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
      const t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
      const d = dst + <usize>c * rowD + (<usize>r << 2);
      v128.store(d, v128.shuffle<i32>(t0, t2, 0, 1, 4, 5));
      v128.store(d + rowD, v128.shuffle<i32>(t0, t2, 2, 3, 6, 7));
      v128.store(d + 2 * rowD, v128.shuffle<i32>(t1, t3, 0, 1, 4, 5));
      v128.store(d + 3 * rowD, v128.shuffle<i32>(t1, t3, 2, 3, 6, 7));
    }
    for (let c = C4; c < C; c++) {
      for (let i = 0; i < 4; i++) {
        store<f32>(dst + <usize>c * rowD + (<usize>(r + i) << 2), load<f32>(s + <usize>i * rowS + (<usize>c << 2)));
      }
    }
  }
  for (let r = R4; r < R; r++) {
    for (let c = 0; c < C; c++) {
      store<f32>(dst + <usize>c * rowD + (<usize>r << 2), load<f32>(src + <usize>r * rowS + (<usize>c << 2)));
    }
  }
}
