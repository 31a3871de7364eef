// AssemblyScript: the WebAssembly SIMD kernel of @rnnkit/cell, compiled by scripts/build-kernel.mjs.
// Its exports: `pack` and `packT` lay out a right-hand side for the product, `sgemm` (a product)
// and `forward` (a recurrence) each read their arguments from a block in memory (src/wasm/args.ts).
export { forward } from './forward';
export { pack, packT, sgemm } from './sgemm';
