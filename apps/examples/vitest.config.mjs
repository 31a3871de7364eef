import { rnnkitConfig } from '@rnnkit/vitest-config';

// Every test file runs on cpu and on wasm (the CLI tests pass the project's backend on).
export default rnnkitConfig({ timeout: 60_000 });
