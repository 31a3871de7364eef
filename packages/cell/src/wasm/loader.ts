import { enginePolicy } from '../policy.js';
import { KERNEL_WASM } from './kernel-wasm.js';
import { threadsPossible } from './workers.js';

/** The WebAssembly exports of assembly/recurrence.ts; pointers are byte offsets into `memory`. */
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
  /** A share of the input projection of the recurrence at `args`, run ahead of it. */
  projectAhead(args: number): void;
  /** dst [C, R] = src [R, C]^T */
  transpose(R: number, C: number, src: number, dst: number): void;
  /** A decoder step's attention; `args` points at a block of ATTEND_ARGS (args.ts). */
  attend(args: number): void;
  /** x = tanh(x) over n floats at `x`. */
  tanhInPlace(x: number, n: number): void;
}

/**
 * The kernel's builds: 'simd' (WebAssembly SIMD, a multiply then an add) and 'relaxed' (the same
 * with relaxed SIMD's fused multiply-add in the products, rounded once instead of twice), in that
 * order: a worker numbers them so.
 */
export const BUILDS = ['simd', 'relaxed'] as const;
export type Build = (typeof BUILDS)[number];

/** Both builds instantiated on one memory (the relaxed one only where the runtime has it). */
interface Loaded {
  memory: WebAssembly.Memory;
  exports: Partial<Record<Build, KernelExports>>;
  /** The compiled modules when the memory is shared (worker threads instantiate them too). */
  modules: Partial<Record<Build, WebAssembly.Module>> | null;
}

let loaded: Loaded | null = null;
let loading: Promise<boolean> | null = null;

const decode = (b64: string) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));

/**
 * A function returning f32x4.relaxed_madd of three zero vectors: valid exactly where the runtime
 * has relaxed SIMD (Chrome 114+, Node 21+; Node 20 with
 * --experimental-wasm-relaxed-simd).
 */
const RELAXED_PROBE = (() => {
  const zero = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
  const body = [0x00, ...zero, ...zero, ...zero, 0xfd, 0x85, 0x02, 0x0b];
  // biome-ignore format: the module's sections, one per line
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // types: () -> v128
    0x03, 0x02, 0x01, 0x00, // one function of type 0
    0x0a, body.length + 2, 0x01, body.length, ...body, // its code
  ]);
})();

/** True where this runtime validates relaxed SIMD (feature detection, no instance). */
export function relaxedSimdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

/** The compiled modules (by build) and whether they import a shared memory (threads possible). */
let compiled: { modules: Partial<Record<Build, WebAssembly.Module>>; shared: boolean } | null =
  null;

/** Compiles the builds this runtime validates, for a shared memory or an ordinary one. */
async function compile(shared: boolean) {
  const modules: Partial<Record<Build, WebAssembly.Module>> = {};
  for (const build of BUILDS.filter((b) => b === 'simd' || relaxedSimdSupported()))
    modules[build] = await WebAssembly.compile(
      decode(KERNEL_WASM[build][shared ? 'shared' : 'plain']),
    );
  return { modules, shared };
}

/**
 * Fresh instances of the compiled builds on a fresh memory (2 pages, growing up to 4 GiB), put in
 * use at once when ready, after `onSwap` (synchronously: no call can run in between).
 */
async function instantiate(c: NonNullable<typeof compiled>, onSwap = () => {}): Promise<void> {
  const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536, shared: c.shared });
  const exports: Loaded['exports'] = {};
  for (const build of BUILDS) {
    const module = c.modules[build];
    if (!module) continue;
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    exports[build] = instance.exports as unknown as KernelExports;
  }
  onSwap();
  loaded = { memory, exports, modules: c.shared ? c.modules : null };
}

/**
 * Compiles and instantiates the WebAssembly SIMD kernel (asynchronously, so it also works on a
 * browser's main thread); resolves true once loaded, false where WebAssembly or its SIMD is
 * unavailable. Started when this module loads. Where threads are possible (Node; a cross-origin
 * isolated page) the memory is shared, so that worker threads can join in (threads.ts).
 */
export function loadKernel(): Promise<boolean> {
  loading ??= (async () => {
    // shared memory first where threads are possible; if it fails after all, the ordinary modules
    for (const shared of threadsPossible() ? [true, false] : [false]) {
      try {
        const c = await compile(shared);
        await instantiate(c);
        compiled = c;
        return true;
      } catch {
        // the next kind of module, or none: no WebAssembly (SIMD) here
      }
    }
    return false;
  })();
  return loading;
}

/**
 * Replaces the kernel's instances and memory by fresh ones (WebAssembly memory cannot shrink: the
 * old one is freed once nothing refers to it). The swap is synchronous, between calls, and
 * `onSwap` drops there what referred to the old memory (cached weights, workers). False without a
 * kernel.
 */
export async function reinstantiate(onSwap: () => void): Promise<boolean> {
  if (!(await loadKernel()) || !compiled) return false;
  await instantiate(compiled, onSwap);
  return true;
}

void loadKernel();

/**
 * The build calls use now: 'relaxed' where the runtime has relaxed SIMD and
 * `enginePolicy.relaxedSimd` allows it, else 'simd'; null until the kernel is loaded.
 */
export function kernelBuild(): Build | null {
  if (!loaded) return null;
  return enginePolicy.relaxedSimd && loaded.exports.relaxed ? 'relaxed' : 'simd';
}

/** The exports of the build in use once loaded, else null. */
export function loadedExports(): KernelExports | null {
  const build = kernelBuild();
  return build ? loaded!.exports[build]! : null;
}

/**
 * The shared memory, the modules worker threads instantiate on it (by build) and this thread's
 * exports of each; null without threads.
 */
export function sharedModules(): {
  memory: WebAssembly.Memory;
  modules: Partial<Record<Build, WebAssembly.Module>>;
  exports: Partial<Record<Build, KernelExports>>;
} | null {
  if (!loaded?.modules) return null;
  return { memory: loaded.memory, modules: loaded.modules, exports: loaded.exports };
}
