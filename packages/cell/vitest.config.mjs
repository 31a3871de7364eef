import { fileURLToPath } from 'node:url';
import { rnnkitConfig } from '@rnnkit/vitest-config';

const config = rnnkitConfig();
// The kernel's relaxed-SIMD build (fused multiply-add), which Node 20 has behind a flag: the
// parity fixtures, the kernel's tests and the inference path's once more with it, on the wasm backend.
config.test.projects.push({
  extends: true,
  test: {
    name: 'wasm-relaxed',
    env: { RNNKIT_BACKEND: 'wasm' },
    execArgv: ['--experimental-wasm-relaxed-simd'],
    include: ['src/parity.test.ts', 'src/wasm/*.test.ts', 'src/sequence/infer.test.ts'],
    setupFiles: [fileURLToPath(import.meta.resolve('@rnnkit/vitest-config/setup'))],
  },
});
export default config;
