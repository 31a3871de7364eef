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
/** Where tfjs-backend-wasm was told to find its .wasm files (it can be told only once); undefined = not yet. */
let wasmPathsUsed: string | Record<string, string> | null | undefined;

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
 * In Node, a `wasmPaths` directory on the local disk is checked before tfjs-backend-wasm sees it:
 * once its loader has failed it refuses new paths for the rest of the process.
 */
async function checkLocalWasmDir(paths: string): Promise<void> {
  if (/^(https?|data|blob):/i.test(paths)) return;
  const { existsSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const dir = /^file:/i.test(paths) ? fileURLToPath(paths) : paths;
  if (WASM_FILES.every((f) => !existsSync(`${dir}${dir.endsWith('/') ? '' : '/'}${f}`))) {
    throw new BackendError(
      `setBackend('wasm'): the WebAssembly files are missing: looked for ${WASM_FILES.join(', ')} in ${JSON.stringify(paths)} (from { wasmPaths }). ` +
        `Pass { wasmPaths } pointing at the directory that holds them, or use setBackend('cpu').`,
    );
  }
}

/** After a failed switch tfjs is left with no usable backend: go back to the one that was active. */
async function restore(previous: string | null, failed: BackendName): Promise<void> {
  if (previous && previous !== failed) {
    try {
      await tf.setBackend(previous);
    } catch {
      // the original error is the one to report
    }
  }
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
  if (wasm && wasmPathsUsed === undefined) {
    if (isNode && typeof opts.wasmPaths === 'string') await checkLocalWasmDir(opts.wasmPaths);
    const paths = opts.wasmPaths ?? (isNode ? await nodeWasmDir() : undefined);
    if (paths !== undefined) wasm.setWasmPaths(paths as string);
    wasmPathsUsed = paths ?? null;
  }
  const previous = (tf.engine() as unknown as { backendName: string | null }).backendName;
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    await restore(previous, name);
    throw new BackendError(
      `setBackend('${name}'): the backend failed to start (${(e as Error).message}). Try setBackend('cpu').`,
    );
  }
  if (ok && name === 'cpu') {
    // tfjs-backend-cpu prints an advert for tfjs-node on its first write in Node; users asked for cpu.
    (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  }
  if (!ok) {
    await restore(previous, name);
    // the paths tfjs-backend-wasm actually used: they cannot change after its first attempt
    const where =
      wasmPathsUsed ??
      (isNode
        ? 'the installed @tensorflow/tfjs-backend-wasm'
        : "the page's own URL (no wasmPaths given)");
    const ignored =
      opts.wasmPaths !== undefined && JSON.stringify(opts.wasmPaths) !== JSON.stringify(where)
        ? ` (this call's wasmPaths ${JSON.stringify(opts.wasmPaths)} came too late: the wasm backend reads them once per process or page)`
        : '';
    throw new BackendError(
      `setBackend('${name}'): the backend failed to initialise` +
        (name === 'wasm'
          ? `; the .wasm files were looked for in ${JSON.stringify(where)}${ignored}. Pass { wasmPaths } pointing at them, or use setBackend('cpu').`
          : '.') +
        (previous && previous !== name ? ` The '${previous}' backend is still active.` : ''),
    );
  }
}

/** The active backend's name. */
export function getBackend(): BackendName {
  return tf.getBackend() as BackendName;
}
