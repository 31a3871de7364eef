// esbuild: the .wasm files are copied next to the page (build.mjs), where tfjs-backend-wasm looks
// by default, so setBackend needs no wasmPaths.
import { run } from '../../app/lstm.js';

run();
