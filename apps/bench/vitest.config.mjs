import { rnnkitConfig } from '@rnnkit/vitest-config';

// Every test file runs on cpu and on wasm; the CLI smoke run takes a while on a loaded machine.
export default rnnkitConfig({ timeout: 180_000 });
