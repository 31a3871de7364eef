/**
 * Peak memory of one rnnkit forward pass over a long sequence, measured in a fresh process so
 * that earlier cases' heaps do not hide the growth:
 *   node --expose-gc dist/memprobe.js BACKEND CELL T   -> one JSON line (a MemoryResult)
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setBackend } from '@rnnkit/ops';
import { createLayer } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName, CellKind } from './cases.js';
import { randomArray } from './stats.js';

export interface MemoryResult {
  backend: BackendName;
  cell: CellKind;
  B: number;
  T: number;
  I: number;
  H: number;
  /** process.memoryUsage().rss (bytes) before the forward pass, after building model and input. */
  rssBefore: number;
  /** ... and after it, with the output still alive. */
  rssAfter: number;
  /** tf.memory().numBytes before the forward pass, and after it (output alive). */
  tfBytesBefore: number;
  tfBytesAfter: number;
  /** The most tensor bytes alive at once during the forward pass, above tfBytesBefore (tf.profile). */
  peakExtraBytes: number;
  /** Tensors alive after disposing the outputs, minus before: 0 means no per-step leftovers. */
  tensorsLeft: number;
  forwardMs: number;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

export async function probe(
  backend: BackendName,
  cell: CellKind,
  T: number,
  B = 1,
  I = 32,
  H = 64,
): Promise<MemoryResult> {
  await setBackend(backend);
  const model = createLayer(cell, { inputSize: I, hiddenSize: H, batchFirst: true });
  model.eval();
  const x = tf.tensor3d(randomArray(B * T * I, 7), [B, T, I]);
  // Warm the kernels up on a short sequence, so the measured pass allocates only for itself.
  tf.tidy(() => {
    model.forward(tf.slice(x, [0, 0, 0], [B, 2, I]));
  });
  gc();
  const tensorsBefore = tf.memory().numTensors;
  const tfBytesBefore = tf.memory().numBytes;
  const rssBefore = process.memoryUsage().rss;
  // A plain pass for rss and time (tf.profile keeps a record per kernel, which would count in rss).
  const run = () => {
    const [y, state] = model.forward(x) as [tf.Tensor, tf.Tensor | tf.Tensor[]];
    return [y, ...(Array.isArray(state) ? state : [state])];
  };
  const t0 = performance.now();
  let out = run();
  out[0].dataSync();
  const forwardMs = performance.now() - t0;
  const rssAfter = process.memoryUsage().rss;
  const tfBytesAfter = tf.memory().numBytes;
  tf.dispose(out);
  // A profiled pass for the peak of tensor bytes. Per-kernel NaN checks would queue a read of
  // every output while profiling: off, as in a production build.
  tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
  const info = await tf.profile(() => {
    out = run();
    return out;
  });
  tf.dispose(out);
  const tensorsLeft = tf.memory().numTensors - tensorsBefore;
  model.dispose();
  x.dispose();
  return {
    backend,
    cell,
    B,
    T,
    I,
    H,
    rssBefore,
    rssAfter,
    tfBytesBefore,
    tfBytesAfter,
    // tf.profile sees only bytes made by kernels; the kernel's inference path makes its outputs
    // directly, so the bytes alive after the plain pass (outputs included) bound the peak too
    peakExtraBytes: Math.max(info.peakBytes, tfBytesAfter) - tfBytesBefore,
    tensorsLeft,
    forwardMs,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [backend, cell, T] = process.argv.slice(2);
  const r = await probe(backend as BackendName, cell as CellKind, Number(T));
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
