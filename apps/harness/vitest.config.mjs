import { rnnkitConfig } from '@rnnkit/vitest-config';

// Every test file runs on cpu and on wasm; each runs the harness on its project's backend.
export default rnnkitConfig({ timeout: 120_000 });
