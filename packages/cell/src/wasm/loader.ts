import { KERNEL_WASM, KERNEL_WASM_SHARED } from './kernel-wasm.js';
import { threadsPossible } from './workers.js';

/** The WebAssembly exports of assembly/index.ts; pointers are byte offsets into `memory`. */
export interface KernelExports {
  memory: WebAssembly.Memory;
  /** Packs w [N, K] at `w` into `dst` for sgemm. */
  pack(N: number, K: number, w: number, dst: number): void;
  /** Packs b [K, N] at `b` into `dst` for sgemm. */
  packT(N: number, K: number, b: number, dst: number): void;
  /** A product; `args` points at a block of SGEMM_ARGS (args.ts). */
  sgemm(args: number): void;
  /** A recurrence; `args` points at a block of FORWARD_ARGS (args.ts). */
  forward(args: number): void;
}

let exports: KernelExports | null = null;
let loading: Promise<boolean> | null = null;
/** The compiled module and whether it imports a shared memory (threads possible). */
let compiled: { module: WebAssembly.Module; shared: boolean } | null = null;
/** The shared-memory module and its memory, when threads are possible here. */
let shared: {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  exports: KernelExports;
} | null = null;

/**
 * A fresh instance of the compiled module, on a fresh memory (2 pages, growing up to 4 GiB), put in
 * use at once when ready, after `onSwap` (synchronously: no call can run in between).
 */
async function instantiate(
  c: { module: WebAssembly.Module; shared: boolean },
  onSwap = () => {},
): Promise<void> {
  if (c.shared) {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536, shared: true });
    const instance = await WebAssembly.instantiate(c.module, { env: { memory } });
    const k = instance.exports as unknown as KernelExports;
    onSwap();
    shared = { module: c.module, memory, exports: k };
    exports = k;
  } else {
    const instance = await WebAssembly.instantiate(c.module, {});
    onSwap();
    exports = instance.exports as unknown as KernelExports;
  }
}

/**
 * Compiles and instantiates the WebAssembly SIMD recurrence kernel (asynchronously, so it also
 * works on a browser's main thread). Resolves true once the kernel is in use, false where
 * WebAssembly or its SIMD is unavailable: the cells then keep their plain JS path. Started when
 * this module loads; await it to be sure the kernel runs from the first forward on. Idempotent.
 * Where threads are possible (Node; a cross-origin isolated page) the kernel's memory is shared,
 * so that worker threads can join in (see `setKernelThreads`).
 */
export function initKernel(): Promise<boolean> {
  loading ??= (async () => {
    const decode = (b64: string) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    if (threadsPossible()) {
      try {
        const c = { module: await WebAssembly.compile(decode(KERNEL_WASM_SHARED)), shared: true };
        await instantiate(c);
        compiled = c;
        return true;
      } catch {
        // No shared memory after all: the single-threaded module below.
      }
    }
    try {
      const c = { module: await WebAssembly.compile(decode(KERNEL_WASM)), shared: false };
      await instantiate(c);
      compiled = c;
      return true;
    } catch {
      return false;
    }
  })();
  return loading;
}

/**
 * Replaces the kernel's instance and memory by fresh ones (WebAssembly memory cannot shrink: the
 * old one is freed once nothing refers to it). The swap is synchronous, between calls, and
 * `onSwap` drops there what referred to the old memory (cached weights, workers). False without a
 * kernel.
 */
export async function reinstantiate(onSwap: () => void): Promise<boolean> {
  if (!(await initKernel()) || !compiled) return false;
  await instantiate(compiled, onSwap);
  return true;
}

void initKernel();

/** The kernel's exports once loaded, else null. */
export const loadedExports = (): KernelExports | null => exports;

/** The shared-memory module and memory worker threads instantiate (and this thread's instance), null without threads. */
export const sharedModule = () => shared;
