#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { relaxedSimdSupported } from '@rnnkit/cell/internal';
import { main } from './cli.js';

/** Node 20 has relaxed SIMD behind this flag (Node 21+ and Chrome 114+ without). */
const RELAXED = '--experimental-wasm-relaxed-simd';

if (!relaxedSimdSupported() && !process.execArgv.includes(RELAXED)) {
  // Run under the flag, so that the bench times both of the kernel's builds (run.ts).
  const args = [RELAXED, ...process.execArgv, ...process.argv.slice(1)];
  process.exitCode = spawnSync(process.execPath, args, { stdio: 'inherit' }).status ?? 1;
} else {
  process.exitCode = await main(process.argv.slice(2));
}
