// The WebAssembly kernel of @rnnkit/cell in this realm (the page or a training worker): its worker
// threads, started once, and how the UI describes them. Threads need SharedArrayBuffer, i.e. a
// cross-origin isolated page (the COOP/COEP headers that vite.config.ts and the e2e server send);
// elsewhere the kernel runs on one thread.

import { initKernel, setKernelThreads } from '@rnnkit/cell';
import { LSTM } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import { DataRng } from '../engine/index.js';
import type { ThreadCheck } from './thread-check.js';

export type { ThreadCheck };

export interface KernelState {
  /** True when the recurrences run in the WebAssembly SIMD kernel (else in plain JS). */
  wasm: boolean;
  /** Threads a large kernel call uses. */
  threads: number;
  /** crossOriginIsolated of this realm (SharedArrayBuffer can be shared with workers). */
  isolated: boolean;
  /** navigator.hardwareConcurrency */
  hardware: number;
}

let started: Promise<KernelState> | null = null;

/** Starts the kernel's worker threads here (once): as many as the machine has, at most 4. */
export function startKernelThreads(): Promise<KernelState> {
  started ??= (async () => {
    const wasm = await initKernel();
    const threads = await setKernelThreads();
    return kernelState(wasm, threads);
  })();
  return started;
}

function kernelState(wasm: boolean, threads: number): KernelState {
  return {
    wasm,
    threads,
    isolated: globalThis.crossOriginIsolated === true,
    hardware: globalThis.navigator?.hardwareConcurrency ?? 1,
  };
}

/** "WebAssembly SIMD, 2 threads", "WebAssembly SIMD, 1 thread (page not cross-origin isolated)" */
export function describeKernel(s: KernelState): string {
  if (!s.wasm) return 'plain JS (no WebAssembly SIMD)';
  const n = `${s.threads} thread${s.threads === 1 ? '' : 's'}`;
  let why = '';
  if (s.threads === 1) {
    if (!s.isolated) why = ' (page not cross-origin isolated)';
    else if (s.hardware < 2) why = ' (one core)';
    else why = ' (worker threads did not start)';
  }
  return `WebAssembly SIMD, ${n}${why}`;
}

/**
 * For tests and the curious (window.rnnkitDemo.threadCheck): an LSTM forward large enough to be
 * split across the kernel's threads (batch 64, T 32, I 64, H 128: T*B*4H*H = 2^27 multiply-adds),
 * run with the default threads and again with setKernelThreads(1); the results must be identical.
 */
export async function threadCheck(repeats = 3): Promise<ThreadCheck> {
  await startKernelThreads();
  const shape = { batch: 64, steps: 32, inputSize: 64, hiddenSize: 128 };
  const { batch: B, steps: T, inputSize: I, hiddenSize: H } = shape;
  const lstm = new LSTM({ inputSize: I, hiddenSize: H, batchFirst: true });
  const x = tf.tensor3d(new DataRng(1).uniform(B * T * I), [B, T, I]);
  const run = (): { values: Float32Array[]; ms: number } => {
    let best = Number.POSITIVE_INFINITY;
    let values: Float32Array[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      const [out, [h, c]] = lstm.forward(x);
      values = [out, h, c].map((t) => t.dataSync() as Float32Array);
      best = Math.min(best, performance.now() - t0);
      tf.dispose([out, h, c]);
    }
    return { values, ms: best };
  };
  try {
    const threads = await setKernelThreads();
    const a = run();
    const singleThreads = await setKernelThreads(1);
    const b = run();
    let maxAbsDiff = 0;
    let values = 0;
    for (let k = 0; k < a.values.length; k++) {
      const va = a.values[k];
      const vb = b.values[k];
      if (va.length !== vb.length) throw new Error('threadCheck: outputs differ in size');
      for (let i = 0; i < va.length; i++) {
        // NaN on either side counts as an infinite difference.
        const d = Number.isNaN(va[i]) || Number.isNaN(vb[i]) ? Infinity : Math.abs(va[i] - vb[i]);
        if (d > maxAbsDiff) maxAbsDiff = d;
      }
      values += va.length;
    }
    return { shape, threads, singleThreads, maxAbsDiff, values, msThreads: a.ms, msSingle: b.ms };
  } finally {
    await setKernelThreads();
    x.dispose();
    lstm.dispose();
  }
}
