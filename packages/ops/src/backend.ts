import * as tf from '@tensorflow/tfjs-core';
import { hasWasmFiles, installedWasmDir, WASM_FILES } from '#wasm-files';
import { BackendError } from './errors.js';
import { assertBool, assertOneOf, checkOptions } from './guards.js';
import { registerKernels } from './kernels.js';
import { startWasm } from './wasm-threads.js';

/** A tfjs backend rnnkit runs on: `'cpu'` (plain JavaScript) or `'wasm'` (WebAssembly, SIMD, threads). */
export type BackendName = 'cpu' | 'wasm';
/** Every backend name `setBackend` accepts. */
export const BACKENDS: readonly BackendName[] = ['cpu', 'wasm'];

/** Options of {@link setBackend}; both are read once per process or page, on the first wasm start. */
export interface BackendOptions {
  /**
   * wasm only: where the tfjs-backend-wasm `.wasm` files are, as a directory URL/path ending in "/"
   * or a map from file name to URL. In Node the files are found in the installed package; in a
   * browser bundle pass the URLs your bundler gives them (e.g. Vite's `?url` imports; see the
   * README's "Bundlers").
   * @default the installed package's directory in Node; next to the page in a browser
   */
  wasmPaths?: string | Record<string, string>;
  /**
   * wasm only: let tfjs-backend-wasm use Web Worker threads where it can (a cross-origin isolated
   * page; never in Node). When its threaded workers fail (minified bundles, see the README's
   * "Bundlers"), rnnkit warns once and runs it on one thread; `false` skips the attempt. Read on
   * the first wasm start of a page, like `wasmPaths`.
   * @default true
   */
  threads?: boolean;
}

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

/**
 * The .wasm files' location to hand to tfjs-backend-wasm: `given`, else (in Node) the installed
 * package's directory; checked to hold the files where there is a file system to look in.
 */
async function wasmPaths(
  given: string | Record<string, string> | undefined,
): Promise<string | Record<string, string> | undefined> {
  const paths = given ?? (await installedWasmDir());
  if (typeof paths === 'string' && !(await hasWasmFiles(paths))) {
    throw new BackendError(
      `setBackend('wasm'): the WebAssembly files are missing: looked for ${WASM_FILES.join(', ')} in ${JSON.stringify(paths)}` +
        (given === undefined
          ? '. Reinstall @tensorflow/tfjs-backend-wasm, pass { wasmPaths } to setBackend'
          : ' (from { wasmPaths }). Pass { wasmPaths } pointing at the directory that holds them') +
        ", or use setBackend('cpu').",
    );
  }
  return paths;
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

/** Work every successful `setBackend` waits for before it resolves (`afterSetBackend`). */
const readyHooks: Array<() => Promise<unknown>> = [];

/**
 * Makes `setBackend` wait for `hook` once the backend is active: @rnnkit/cell loads its kernel and
 * starts its threads there, so that a loop that never awaits uses them from its first call. A hook
 * that fails does not fail `setBackend`.
 */
export function afterSetBackend(hook: () => Promise<unknown>): void {
  readyHooks.push(hook);
}

/**
 * Loads, initialises and activates a tfjs backend ('cpu' or 'wasm'), then waits for what the
 * packages loaded need before the first call (@rnnkit/cell: its WebAssembly kernel and threads).
 * Registers rnnkit's kernels for it (kernels.ts): on wasm UnsortedSegmentSum, which it lacks; on cpu
 * UnsortedSegmentSum, Transpose and Sum in place of tfjs's own, with the same results, faster.
 * Call it once, before the first tensor. Throws BackendError saying which backend failed, why and
 * what to try; the previous backend then stays active.
 * @param name the backend to activate
 * @param opts where the wasm files are and whether tfjs may use threads
 * @example
 * ```ts
 * import { setBackend } from '@rnnkit/ops';
 * await setBackend('wasm'); // or 'cpu'
 * ```
 */
export async function setBackend(name: BackendName, opts: BackendOptions = {}): Promise<void> {
  assertOneOf(name, 'setBackend(name)', BACKENDS);
  checkOptions(opts, 'setBackend', ['wasmPaths', 'threads']);
  if (opts.threads !== undefined) assertBool(opts.threads, 'setBackend({ threads })');
  const wasm = await importBackend(name);
  registerKernels(name);
  if (wasm && wasmPathsUsed === undefined) {
    const paths = await wasmPaths(opts.wasmPaths);
    if (paths !== undefined) wasm.setWasmPaths(paths as string);
    wasmPathsUsed = paths ?? null;
  }
  const previous = (tf.engine() as unknown as { backendName: string | null }).backendName;
  let ok: boolean;
  try {
    ok = name === 'wasm' ? await startWasm(opts.threads ?? true) : await tf.setBackend(name);
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
  await Promise.all(readyHooks.map((hook) => hook().catch(() => undefined)));
}

/** The active backend's name. */
export function getBackend(): BackendName {
  return tf.getBackend() as BackendName;
}
