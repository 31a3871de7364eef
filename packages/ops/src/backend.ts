import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from './errors.js';
import { ensureGradients } from './gradients.js';
import { assertOneOf, checkOptions } from './guards.js';
import { registerMissingKernels } from './kernels.js';

export type BackendName = 'cpu' | 'wasm';
export const BACKENDS: readonly BackendName[] = ['cpu', 'wasm'];

export interface BackendOptions {
  /**
   * wasm only: where the tfjs-backend-wasm `.wasm` files are, as a directory URL/path ending in "/"
   * or a map from file name to URL. In Node the files are found in the installed package; in a
   * browser bundle pass the URLs your bundler gives them (e.g. Vite's `?url` imports).
   */
  wasmPaths?: string | Record<string, string>;
}

const WASM_FILES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
];
const isNode = typeof process !== 'undefined' && process.versions?.node != null;
let wasmConfigured = false;

async function importBackend(
  name: BackendName,
): Promise<typeof import('@tensorflow/tfjs-backend-wasm') | null> {
  const pkg = `@tensorflow/tfjs-backend-${name}`;
  try {
    if (name === 'cpu') {
      await import('@tensorflow/tfjs-backend-cpu');
      return null;
    }
    return await import('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    throw new BackendError(
      `setBackend('${name}'): could not load ${pkg} (${(e as Error).message}). ` +
        `Install it next to @tensorflow/tfjs-core (npm i ${pkg}@4.22.0)${name === 'wasm' ? ", or use setBackend('cpu')" : ''}.`,
    );
  }
}

/** In Node: the directory of the installed tfjs-backend-wasm `.wasm` files, checked to exist. */
async function nodeWasmDir(): Promise<string> {
  const { createRequire } = await import('node:module');
  const { dirname, join } = await import('node:path');
  const { existsSync } = await import('node:fs');
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  const missing = WASM_FILES.filter((f) => !existsSync(join(dir, f)));
  if (missing.length === WASM_FILES.length) {
    throw new BackendError(
      `setBackend('wasm'): the WebAssembly files are missing: looked for ${WASM_FILES.join(', ')} in ${dir}. ` +
        `Reinstall @tensorflow/tfjs-backend-wasm, pass { wasmPaths } to setBackend, or use setBackend('cpu').`,
    );
  }
  return `${dir}/`;
}

/**
 * Loads, initialises and activates a tfjs backend ('cpu' or 'wasm'); also registers tfjs-core's
 * gradients so training works. Throws BackendError saying which backend failed, why and what to
 * try; the previous backend then stays active.
 */
export async function setBackend(name: BackendName, opts: BackendOptions = {}): Promise<void> {
  assertOneOf(name, 'setBackend(name)', BACKENDS);
  checkOptions(opts, 'setBackend', ['wasmPaths']);
  ensureGradients();
  const wasm = await importBackend(name);
  registerMissingKernels(name);
  if (wasm && !wasmConfigured) {
    const paths = opts.wasmPaths ?? (isNode ? await nodeWasmDir() : undefined);
    if (paths !== undefined) wasm.setWasmPaths(paths as string);
    wasmConfigured = true;
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    throw new BackendError(
      `setBackend('${name}'): the backend failed to start (${(e as Error).message}). Try setBackend('cpu').`,
    );
  }
  if (ok && name === 'cpu') {
    // tfjs-backend-cpu prints an advert for tfjs-node on its first write in Node; users asked for cpu.
    (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  }
  if (!ok) {
    const where =
      opts.wasmPaths ??
      (isNode
        ? 'the installed @tensorflow/tfjs-backend-wasm'
        : "the page's own URL (no wasmPaths given)");
    throw new BackendError(
      `setBackend('${name}'): the backend failed to initialise` +
        (name === 'wasm'
          ? `; the .wasm files were looked for in ${JSON.stringify(where)}. Pass { wasmPaths } pointing at them, or use setBackend('cpu').`
          : '.'),
    );
  }
}

/** The active backend's name. */
export function getBackend(): BackendName {
  return tf.getBackend() as BackendName;
}
