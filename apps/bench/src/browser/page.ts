/**
 * The browser bench's page (bundled by ../browser.ts with esbuild, run in headless Chromium on a
 * cross-origin isolated page): rnnkit against ONNX Runtime Web (wasm, with its threads) and
 * tfjs-layers (tfjs-backend-wasm, with its threads), every implementation on the same threads,
 * same weights and input, outputs checked equal, then interleaved timed rounds.
 */
import './setup.js';
import { initKernel, setKernelThreads } from '@rnnkit/cell';
import { kernelBuild } from '@rnnkit/cell/internal';
import { loadSafetensors } from '@rnnkit/ops';
import { createLayer } from '@rnnkit/rnn';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import type * as Ort from 'onnxruntime-web';
import type { BenchCase } from '../cases.js';
import { buildLayersModel, torchWeights } from '../layers.js';
import { maxAbsDiff, randomArray, type Summary, summarize } from '../stats.js';
import { now, sample } from '../timing.js';

export interface PageConfig {
  cases: BenchCase[];
  threads: number;
  /** Timed calls per implementation and case (ms). */
  budgetMs: number;
}
export interface PageImpl {
  status: 'ok' | 'mismatch' | 'error';
  reason?: string;
  maxAbsDiff?: number;
  summary?: Summary;
  /** Calls per sample. */
  batch?: number;
  /** Timed by its first call alone (over SLOW_MS). */
  cold?: boolean;
}

/** A first call slower than this (ms) is not repeated. */
const SLOW_MS = 5000;
export interface PageResult {
  id: string;
  impls: Record<string, PageImpl>;
}
export interface PageRun {
  userAgent: string;
  crossOriginIsolated: boolean;
  rnnkitThreads: number;
  kernelBuild: string | null;
  tfjsThreads: number;
  ortThreads: number;
  /** tfjs-backend-wasm's own test for threads (its threaded build loads only when true). */
  tfjsMultithread: boolean;
  results: PageResult[];
}

type Impl = { name: string; call: () => Promise<Float32Array> };

/** Milliseconds between two samples (a browser's shortest timer, about 4 ms). */
const SETTLE_MS = 5;

/** Checks each impl against the first, warms it up, then samples all in interleaved rounds. */
async function time(impls: Impl[], budgetMs: number): Promise<Record<string, PageImpl>> {
  const out: Record<string, PageImpl> = {};
  let reference: Float32Array | null = null;
  const timed: Array<{ k: Impl; r: PageImpl; batch: number; reps: number; samples: number[] }> = [];
  for (const k of impls) {
    try {
      const t0 = now();
      const y = await k.call();
      const first = now() - t0;
      reference ??= y;
      const d = maxAbsDiff(y, reference);
      if (!(d <= 1e-4)) {
        out[k.name] = {
          status: 'mismatch',
          reason: `max |diff| ${d.toExponential(1)}`,
          maxAbsDiff: d,
        };
        continue;
      }
      if (first > SLOW_MS) {
        // Too slow to repeat: its first call is all there is (as the Node run's slow limit).
        out[k.name] = {
          status: 'ok',
          maxAbsDiff: d,
          batch: 1,
          cold: true,
          summary: summarize([first]),
        };
        continue;
      }
      const warm: number[] = [];
      const until = now() + 300;
      while (now() < until || warm.length < 3) {
        const t0 = now();
        await k.call();
        warm.push(now() - t0);
      }
      const est = warm.slice(-5).sort((a, b) => a - b)[2] ?? warm[warm.length - 1]!;
      const batch = Math.max(1, Math.min(1000, Math.ceil(10 / est)));
      const reps = Math.max(3, Math.min(15, Math.floor(budgetMs / (est * batch))));
      out[k.name] = { status: 'ok', maxAbsDiff: d, batch };
      timed.push({ k, r: out[k.name]!, batch, reps, samples: [] });
    } catch (e) {
      out[k.name] = { status: 'error', reason: (e as Error).message };
    }
  }
  const rounds = Math.max(0, ...timed.map((t) => t.reps));
  for (let round = 0; round < rounds; round++) {
    for (const t of timed) {
      if (round >= t.reps) continue;
      // A pause first, untimed: the threads of the contender sampled before (ONNX Runtime Web's
      // spin while idle, rnnkit's poll for 200 µs) go to sleep instead of taking this one's CPU.
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      t.samples.push(await sample(t.k, t.batch));
    }
  }
  for (const t of timed) t.r.summary = summarize(t.samples);
  return out;
}

async function runCase(c: BenchCase, ort: typeof Ort, budgetMs: number) {
  const { B, T, I, H } = c.shape;
  const name = `${c.cell}_${I}x${H}`;
  const bytes = new Uint8Array(await (await fetch(`/models/${name}.safetensors`)).arrayBuffer());
  const layer = createLayer(c.cell, { inputSize: I, hiddenSize: H, batchFirst: true });
  const sd = loadSafetensors(bytes);
  layer.loadStateDict(sd);
  layer.eval();
  const xData = randomArray(B * T * I, 1 + I * 31 + T);
  const x = tf.tensor3d(xData, [B, T, I]);
  const read = (f: () => tf.Tensor) => async () => {
    const y = tf.tidy(f);
    const d = y.dataSync() as Float32Array;
    y.dispose();
    return d;
  };
  const { model: km, layer: kl } = buildLayersModel(c.cell, torchWeights(sd));
  const session = await ort.InferenceSession.create(`/models/${name}.onnx`, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const xo = new ort.Tensor('float32', xData, [B, T, I]);
  const impls: Impl[] = [
    { name: 'rnnkit', call: read(() => layer.forward(x)[0]) },
    {
      name: 'ort',
      call: async () => {
        const r = await session.run({ x: xo });
        return r.y!.data as Float32Array;
      },
    },
    { name: 'tfjs-layers', call: read(() => kl.apply(x) as tf.Tensor) },
  ];
  try {
    return { id: c.id, impls: await time(impls, budgetMs) };
  } finally {
    await session.release();
    km.dispose();
    layer.dispose();
    tf.dispose([x, ...Object.values(sd)]);
  }
}

/** Runs the cases; the Node side calls this with page.evaluate. */
async function run(config: PageConfig): Promise<PageRun> {
  await tf.setBackend('wasm');
  await initKernel();
  const rnnkitThreads = await setKernelThreads(config.threads);
  // ONNX Runtime Web as its own files (not bundled), so its workers find their scripts.
  const ortUrl = '/ort/ort.wasm.min.mjs';
  const ort = (await import(/* @vite-ignore */ ortUrl)) as typeof Ort;
  ort.env.wasm.numThreads = config.threads;
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.logLevel = 'error';
  const results: PageResult[] = [];
  for (const c of config.cases) results.push(await runCase(c, ort, config.budgetMs));
  const g = globalThis as unknown as {
    navigator: { userAgent: string };
    crossOriginIsolated: boolean;
  };
  return {
    userAgent: g.navigator.userAgent,
    crossOriginIsolated: g.crossOriginIsolated,
    rnnkitThreads,
    kernelBuild: kernelBuild(),
    tfjsThreads: getThreadsCount(),
    tfjsMultithread: (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) as boolean,
    ortThreads: ort.env.wasm.numThreads ?? 0,
    results,
  };
}

(globalThis as unknown as { rnnkitBench: typeof run }).rnnkitBench = run;
