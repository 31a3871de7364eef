// The tfjs-backend-wasm binaries, emitted by Vite as assets; setBackend('wasm', { wasmPaths }) in
// the page and in the training workers.

import { type BackendName, setBackend } from '@rnnkit/ops';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/** Absolute URLs, so they stay valid when handed from the page to a worker. */
export const wasmPaths: Record<string, string> = {
  'tfjs-backend-wasm.wasm': new URL(wasmUrl, import.meta.url).href,
  'tfjs-backend-wasm-simd.wasm': new URL(wasmSimdUrl, import.meta.url).href,
  'tfjs-backend-wasm-threaded-simd.wasm': new URL(wasmThreadedUrl, import.meta.url).href,
};

/** Activates `name` (cpu or wasm) in this realm (page or worker). */
export function useBackend(name: BackendName): Promise<void> {
  return setBackend(name, name === 'wasm' ? { wasmPaths } : {});
}
