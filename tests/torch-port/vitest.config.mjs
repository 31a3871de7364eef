import { rnnkitConfig } from '@rnnkit/vitest-config';

// Every ported test runs on cpu and on wasm.
export default rnnkitConfig();
