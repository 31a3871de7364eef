/**
 * Where rnnkit's forward time goes, by function: V8's CPU profiler (node:inspector) samples this
 * thread over warm calls, and each function's self time (the samples with it on top of the
 * stack) is summed. rnnkit's inference is one call into its WebAssembly kernel (@rnnkit/cell:
 * `sgemm` and `forward` of recurrence.wasm), outside tfjs's kernels, so tf.profile cannot see it.
 * The kernel's worker threads are invisible to this thread's profiler: the profiled calls run on
 * one thread, so that the samples account for all the work.
 */
import { Session } from 'node:inspector/promises';
import { kernelThreads, setKernelThreads } from '@rnnkit/cell';
import { kernelBuild } from '@rnnkit/cell/internal';
import { setBackend } from '@rnnkit/ops';
import { createLayer } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName, BenchCase, CellKind } from './cases.js';
import { type FunctionTime, selfTimes } from './cpu-profile.js';
import { l1Gflops } from './l1-probe.js';
import { randomArray, summarize } from './stats.js';

export interface ProfileResult {
  id: string;
  backend: BackendName;
  shape: BenchCase['shape'];
  /** Kernel threads by default in this run (this machine's, or --threads), and the median call on them (ms). */
  threads: number;
  wallMs: number;
  /** Median call on one kernel thread (ms), outside the profiler. */
  wall1Ms: number;
  /** The profiled calls (on one thread): how many, and their wall time per call (ms). */
  calls: number;
  profiledMs: number;
  /** Sampling interval asked for (µs), samples kept, and the time they account for per call (ms). */
  intervalUs: number;
  samples: number;
  sampledMs: number;
  /** Every function seen, most self time first. */
  functions: FunctionTime[];
  bound: Bound | null;
}

/** How fast the kernel's products ran: their multiply-adds over sgemm's self time. */
export interface Bound {
  /** Multiply-adds of one call: input projection T·B·I·G and recurrence T·B·H·G. */
  projectionMacs: number;
  recurrenceMacs: number;
  /** G: gates × H. */
  G: number;
  sgemmMs: number;
  /** 2 flops per multiply-add over sgemm's self time. */
  gflops: number;
  /** What sgemm's f32x4 4×8 inner loop reaches on data in L1 cache on this core (GFLOP/s). */
  l1Gflops: number;
  /** The kernel build profiled, and so the probe's inner loop (absent in older runs: 'simd'). */
  build?: string;
}

export interface ProfileOptions {
  /** Time for the profiled calls (ms); each plain timing gets half of it. */
  budgetMs?: number;
  /** Kernel threads for the plain timing (default: this machine's); the profile runs on 1. */
  threads?: number;
  /** Sampling interval (µs). */
  intervalUs?: number;
}

const GATES: Record<CellKind, number> = { rnn: 1, lstm: 4, gru: 3 };

/** The frame every kept sample has on its stack: the loop of the profiled calls. */
const MARKER = 'rnnkitProfiledCalls';

function rnnkitProfiledCalls(call: () => void, n: number): void {
  for (let i = 0; i < n; i++) call();
}

export async function profileCase(
  c: BenchCase,
  backend: BackendName,
  opts: ProfileOptions = {},
): Promise<ProfileResult> {
  const budgetMs = opts.budgetMs ?? 2000;
  const intervalUs = opts.intervalUs ?? 100;
  await setBackend(backend);
  const { B, T, I, H } = c.shape;
  const model = createLayer(c.cell, { inputSize: I, hiddenSize: H, batchFirst: true });
  model.eval();
  const x = tf.tensor3d(randomArray(B * T * I, 3), [B, T, I]);
  const call = () => {
    const out = tf.tidy(() => model.forward(x)[0]);
    out.dataSync();
    out.dispose();
  };
  try {
    await setKernelThreads(opts.threads);
    const threads = kernelThreads();
    warm(call);
    const wallMs = medianCall(call, budgetMs / 2);
    let wall1Ms = wallMs;
    let session: Session | null = null;
    try {
      if (threads > 1) {
        await setKernelThreads(1);
        if (kernelThreads() !== 1)
          throw new Error('setKernelThreads(1) left the kernel on more threads');
        warm(call);
        wall1Ms = medianCall(call, budgetMs / 2);
      }
      const calls = Math.max(3, Math.min(10_000, Math.round(budgetMs / wall1Ms)));
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
      await session.post('Profiler.start');
      const t0 = performance.now();
      rnnkitProfiledCalls(call, calls);
      const profiledMs = (performance.now() - t0) / calls;
      const { profile } = await session.post('Profiler.stop');
      const agg = selfTimes(profile, { within: MARKER });
      const functions = agg.functions.map((f) => ({
        name: f.name,
        where: f.where,
        selfMs: f.selfUs / 1000 / calls,
        share: agg.totalUs > 0 ? f.selfUs / agg.totalUs : 0,
      }));
      const sgemm = functions.find((f) => f.name === 'sgemm' && f.where.endsWith('wasm'));
      const G = GATES[c.cell] * H;
      return {
        id: c.id,
        backend,
        shape: c.shape,
        threads,
        wallMs,
        wall1Ms,
        calls,
        profiledMs,
        intervalUs,
        samples: agg.samples,
        sampledMs: agg.totalUs / 1000 / calls,
        functions,
        bound: sgemm
          ? {
              projectionMacs: T * B * I * G,
              recurrenceMacs: T * B * H * G,
              G,
              sgemmMs: sgemm.selfMs,
              gflops: (2 * T * B * (I + H) * G) / (sgemm.selfMs * 1e6),
              l1Gflops: l1Gflops(),
              build: kernelBuild() ?? 'simd',
            }
          : null,
      };
    } finally {
      if (session) {
        await session.post('Profiler.disable').catch(() => {});
        session.disconnect();
      }
      if (threads > 1) await setKernelThreads(opts.threads);
    }
  } finally {
    model.dispose();
    x.dispose();
  }
}

/** Warm calls: at least 3, until 250 ms have passed (V8 has optimised the code by then). */
function warm(call: () => void): void {
  const t0 = performance.now();
  for (let n = 0; n < 3 || (performance.now() - t0 < 250 && n < 2000); n++) call();
}

/** Median time of one call (ms): samples of consecutive calls lasting ≥ 2 ms, at least 5, within `budgetMs`. */
function medianCall(call: () => void, budgetMs: number): number {
  let t0 = performance.now();
  call();
  const batch = Math.max(1, Math.ceil(2 / Math.max(performance.now() - t0, 1e-3)));
  const per: number[] = [];
  const start = performance.now();
  while (per.length < 5 || (performance.now() - start < budgetMs && per.length < 1000)) {
    t0 = performance.now();
    for (let i = 0; i < batch; i++) call();
    per.push((performance.now() - t0) / batch);
  }
  return summarize(per).medianMs;
}

const fmt = (ms: number) => (ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3));
const pct = (share: number) => `${(100 * share).toFixed(1)}%`;
/** A count with its SI prefix: "4.66 G", "2.85 M". */
const si = (n: number) =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(2)} G`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(2)} M`
      : `${(n / 1e3).toFixed(2)} k`;

export function profileMarkdown(p: ProfileResult, top = 12): string {
  const { B, T, I, H } = p.shape;
  const label = (f: FunctionTime) => (f.where ? `${f.name} (${f.where})` : f.name);
  const lines = [
    `### rnnkit ${p.id} (${B},${T},${I},${H}) on ${p.backend}: where the time goes`,
    '',
    `Per call (median): ${fmt(p.wallMs)} ms with ${p.threads > 1 ? `up to ${p.threads} kernel threads` : '1 kernel thread'} (the default here)` +
      (p.threads > 1 ? `, ${fmt(p.wall1Ms)} ms on 1 thread` : '') +
      `. Profiled on 1 thread: ${p.calls} calls, ${fmt(p.profiledMs)} ms each, sampled every ${p.intervalUs} µs; ` +
      `the ${p.samples} samples account for ${fmt(p.sampledMs)} ms per call.`,
    '',
    '| function (where) | self ms per call | share |',
    '|---|---:|---:|',
    ...p.functions.slice(0, top).map((f) => `| ${label(f)} | ${fmt(f.selfMs)} | ${pct(f.share)} |`),
  ];
  const rest = p.functions.slice(top);
  if (rest.length > 0) {
    const ms = rest.reduce((s, f) => s + f.selfMs, 0);
    const share = rest.reduce((s, f) => s + f.share, 0);
    lines.push(`| ${rest.length} other functions | ${fmt(ms)} | ${pct(share)} |`);
  }
  lines.push('');
  const b = p.bound;
  if (b) {
    const gates = b.G / H;
    lines.push(
      `Bound: the products are ${si(b.projectionMacs + b.recurrenceMacs)} multiply-adds per call ` +
        `(input projection T·B·I·G = ${T}·${B}·${I}·${b.G} plus recurrence T·B·H·G = ${T}·${B}·${H}·${b.G}, ` +
        `G = ${gates === 1 ? '' : `${gates}·`}H), ${si(2 * (b.projectionMacs + b.recurrenceMacs))}FLOP; ` +
        `in sgemm's ${fmt(b.sgemmMs)} ms of self time: **${b.gflops.toFixed(1)} GFLOP/s**, ` +
        `${pct(b.gflops / b.l1Gflops)} of the ${b.l1Gflops.toFixed(1)} GFLOP/s that sgemm's inner loop ` +
        `(${b.build === 'relaxed' ? 'relaxed-SIMD build: fused multiply-adds' : 'SIMD build: multiplies and adds'}) ` +
        'reaches on data in L1 cache on this core.',
    );
  } else {
    lines.push("Bound: no sample in the kernel's sgemm (did the kernel run?).");
  }
  return `${lines.join('\n')}\n`;
}
