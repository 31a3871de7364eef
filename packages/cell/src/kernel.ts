import { RECURRENCE_WASM } from './kernel/recurrence-wasm.js';
import type { CellMode } from './weights.js';

/** The WebAssembly exports of assembly/recurrence.ts; pointers are byte offsets into `memory`. */
interface KernelExports {
  memory: WebAssembly.Memory;
  sgemm(M: number, N: number, K: number, a: number, b: number, bias: number, c: number): void;
  pack(N: number, K: number, w: number, dst: number): void;
  forward(
    mode: number,
    T: number,
    B: number,
    H: number,
    S: number,
    G: number,
    reverse: boolean,
    x: number,
    whhT: number,
    bhh: number,
    whrT: number,
    valid: number,
    h: number,
    c: number,
    out: number,
    hp: number,
    full: number,
    gates: number,
    hn: number,
    savedStride: boolean,
    hIn: number,
    cIn: number,
  ): void;
}

const MODES: Record<CellMode, number> = { rnn_tanh: 0, rnn_relu: 1, lstm: 2, gru: 3 };
/** Our buffers start here, above the module's own (tiny) static data. */
const BASE = 65536;
const PAGE = 65536;

/** Floats of a weight [N, K] packed by the kernel's `pack` (strips of 8 columns of its transpose). */
const packedSize = (N: number, K: number) => Math.ceil(N / 8) * 8 * K;

let kernel: KernelExports | null = null;
let loading: Promise<boolean> | null = null;
let enabled = true;

/**
 * Compiles and instantiates the WebAssembly SIMD recurrence kernel (asynchronously, so it also
 * works on a browser's main thread). Resolves true once the kernel is in use, false where
 * WebAssembly or its SIMD is unavailable: the cells then keep their plain JS path. Started when
 * this module loads; await it to be sure the kernel runs from the first forward on. Idempotent.
 */
export function initKernel(): Promise<boolean> {
  loading ??= (async () => {
    try {
      const bytes = Uint8Array.from(atob(RECURRENCE_WASM), (ch) => ch.charCodeAt(0));
      const module = await WebAssembly.compile(bytes);
      const instance = await WebAssembly.instantiate(module, {});
      kernel = instance.exports as unknown as KernelExports;
      return true;
    } catch {
      return false;
    }
  })();
  return loading;
}

void initKernel();

/** True when the recurrent forward and input projection run in the WebAssembly kernel. */
export function kernelReady(): boolean {
  return enabled && kernel !== null;
}

/** Turns the kernel off (the plain JS path runs) or back on; for comparisons and tests. */
export function setKernelEnabled(on: boolean): void {
  enabled = on;
}

/** Lays buffers out in the kernel's memory, 16-byte aligned, growing it as needed. */
class Arena {
  private next = BASE;
  constructor(private readonly k: KernelExports) {}
  /** Reserves n floats (or bytes, with `bytes`) and returns the byte offset; 0 when n is 0. */
  alloc(n: number, bytes = false): number {
    if (n === 0) return 0;
    const at = this.next;
    this.next += Math.ceil((bytes ? n : n * 4) / 16) * 16;
    const short = this.next - this.k.memory.buffer.byteLength;
    if (short > 0) this.k.memory.grow(Math.ceil(short / PAGE));
    return at;
  }
  /** Copies `data` in at a fresh offset and returns it. */
  put(data: Float32Array): number {
    const at = this.alloc(data.length);
    this.f32(at, data.length).set(data);
    return at;
  }
  /** A view of n floats at `at` (valid until the memory next grows). */
  f32(at: number, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, at, n);
  }
}

/** x [M, K] W^T + bias [N] into the arena: W [N, K] packed, then sgemm. Returns the offset of [M, N]. */
function projectInto(
  k: KernelExports,
  mem: Arena,
  x: Float32Array,
  M: number,
  K: number,
  w: Float32Array,
  N: number,
  bias: Float32Array | null,
): number {
  const px = mem.put(x);
  const pw = mem.put(w);
  const pb = bias ? mem.put(bias) : 0;
  const pwP = mem.alloc(packedSize(N, K));
  const pc = mem.alloc(M * N);
  k.pack(N, K, pw, pwP);
  k.sgemm(M, N, K, px, pwP, pb, pc);
  return pc;
}

/**
 * x [M, K] W^T + bias as [M, N] in the kernel's SIMD sgemm, W [N, K] as PyTorch stores it (the
 * kernel packs its transpose once per call), bias [N] or null. Call only when `kernelReady()`.
 */
export function kernelProject(
  x: Float32Array,
  M: number,
  K: number,
  w: Float32Array,
  N: number,
  bias: Float32Array | null,
): Float32Array {
  const mem = new Arena(kernel!);
  return mem.f32(projectInto(kernel!, mem, x, M, K, w, N, bias), M * N).slice();
}

/** Host arrays of one recurrence call (shapes as in recurrence.ts). */
export interface KernelInputs {
  mode: CellMode;
  T: number;
  B: number;
  H: number;
  G: number;
  S: number;
  reverse: boolean;
  /** [T, B], 1 while t < length, or null */
  valid: Uint8Array | null;
  /** [T, B, G] x W_ih^T + b_ih; or the input [T, B, I] when `project` is given */
  x: Float32Array;
  /** Projects x in the kernel first: W_ih [G, I] and b_ih [G] (or null) */
  project?: { I: number; wih: Float32Array; bih: Float32Array | null };
  /** [G, S] */
  whh: Float32Array;
  /** [G] or null */
  bhh: Float32Array | null;
  /** [S, H] (LSTM projection) or null */
  whr: Float32Array | null;
  /** [B, S] */
  h0: Float32Array;
  /** [B, H] (LSTM) or null */
  c0: Float32Array | null;
}

/** What recurrence.ts's backward reads, [T, B, ...] by step (see its `Saved`). */
export interface KernelSaved {
  gates: Float32Array;
  hIn: Float32Array;
  cIn: Float32Array | null;
  hn: Float32Array | null;
}

/**
 * Runs the whole recurrence in the kernel. Returns the packed output [T*B*S + B*S (+ B*H)]:
 * outputs [T, B, S], final h [B, S], final c [B, H]; and, with `save`, the per-step activations
 * and states for BPTT. Call only when `kernelReady()`.
 */
export function kernelRecurrence(
  a: KernelInputs,
  save: boolean,
): { packed: Float32Array; saved: KernelSaved | null } {
  const { T, B, H, G, S } = a;
  const k = kernel!;
  const mem = new Arena(k);
  const lstm = a.mode === 'lstm';
  const gru = a.mode === 'gru';
  const p = a.project;
  const px = p ? projectInto(k, mem, a.x, T * B, p.I, p.wih, G, p.bih) : mem.put(a.x);
  const pw = mem.put(a.whh);
  const pwT = mem.alloc(packedSize(G, S));
  const pb = a.bhh ? mem.put(a.bhh) : mem.alloc(G);
  if (!a.bhh) mem.f32(pb, G).fill(0);
  let pwrT = 0;
  if (a.whr) {
    const pwr = mem.put(a.whr);
    pwrT = mem.alloc(packedSize(S, H));
    k.pack(S, H, pwr, pwrT);
  }
  let pValid = 0;
  if (a.valid) {
    pValid = mem.alloc(T * B, true);
    new Uint8Array(k.memory.buffer, pValid, T * B).set(a.valid);
  }
  // Packed output, as one block: outputs, then h, then c.
  const packedLength = T * B * S + B * S + (lstm ? B * H : 0);
  const pOut = mem.alloc(packedLength);
  const ph = pOut + T * B * S * 4;
  const pc = lstm ? ph + B * S * 4 : 0;
  mem.f32(ph, B * S).set(a.h0);
  if (pc) mem.f32(pc, B * H).set(a.c0!);
  const php = mem.alloc(B * G);
  const pFull = a.whr ? mem.alloc(B * H) : 0;
  const pGates = mem.alloc(save ? T * B * G : B * G);
  const pHn = gru ? mem.alloc(save ? T * B * H : B * H) : 0;
  const pHIn = save ? mem.alloc(T * B * S) : 0;
  const pCIn = save && lstm ? mem.alloc(T * B * H) : 0;
  k.pack(G, S, pw, pwT);
  k.forward(
    MODES[a.mode],
    T,
    B,
    H,
    S,
    G,
    a.reverse,
    px,
    pwT,
    pb,
    pwrT,
    pValid,
    ph,
    pc,
    pOut,
    php,
    pFull,
    pGates,
    pHn,
    save,
    pHIn,
    pCIn,
  );
  const packed = mem.f32(pOut, packedLength).slice();
  const saved = save
    ? {
        gates: mem.f32(pGates, T * B * G).slice(),
        hIn: mem.f32(pHIn, T * B * S).slice(),
        cIn: pCIn ? mem.f32(pCIn, T * B * H).slice() : null,
        hn: pHn ? mem.f32(pHn, T * B * H).slice() : null,
      }
    : null;
  return { packed, saved };
}
