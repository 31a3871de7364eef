#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// Node 20 has relaxed SIMD behind this flag (Node 22+ and Chrome 114+ have it on). Set before
// anything compiles WebAssembly, it lets the kernel pick its relaxed-SIMD build, whose fused
// multiply-adds train about 10-20% faster; the bench runs under the same flag.
setFlagsFromString('--experimental-wasm-relaxed-simd');
const { main } = await import('./cli.js');

process.exitCode = await main(process.argv.slice(2));
