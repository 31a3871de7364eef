/**
 * Where rnnkit's forward time goes, by function: V8's CPU profiler (node:inspector) samples this
 * thread over warm calls, and each function's self time (the samples with it on top of the
 * stack) is summed. rnnkit's inference is one call into its WebAssembly kernel (@rnnkit/cell:
 * `sgemm` and `forward` of recurrence.wasm), outside tfjs's kernels, so tf.profile cannot see it.
 * The kernel's worker threads are invisible to this thread's profiler: the profiled calls run on
 * one thread, so that the samples account for all the work.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Profiler } from 'node:inspector';
import { Session } from 'node:inspector/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelThreads, setKernelThreads } from '@rnnkit/cell';
import { kernelBuild } from '@rnnkit/cell/internal';
import { setBackend } from '@rnnkit/ops';
import { createLayer } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName, BenchCase, CellKind } from './cases.js';
import { randomArray, summarize } from './stats.js';

/** One function's self time, summed over the profiled calls. */
export interface FunctionTime {
  /** The function, e.g. "sgemm", "BackendWasm.readSync", "(garbage collector)". */
  name: string;
  /** Where it lives: a package ("@rnnkit/cell", "tfjs-backend-wasm"), a WebAssembly module
   *  ("recurrence.wasm"), "node:…", or "" for V8's own entries. */
  where: string;
  /** Self time per call (ms). */
  selfMs: number;
  /** Fraction of the sampled time (0..1). */
  share: number;
}

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

/** The part of a V8 CPU profile read here (Profiler.Profile). */
export type CallFrame = Profiler.ProfileNode['callFrame'];

export type CpuProfile = Pick<
  Profiler.Profile,
  'nodes' | 'startTime' | 'endTime' | 'samples' | 'timeDeltas'
>;

/** V8's entries outside any function, hung from the root: counted wherever they fall. */
const VM_ENTRIES = new Set(['(garbage collector)', '(program)']);

/**
 * Self time per function (functionName + where, see {@link frameWhere}) of a V8 CPU profile: each
 * sample lasts until the next one (the last until the end of the profile), as in Chrome's
 * DevTools. With `within`, only samples with a frame of that name on their stack are kept, plus
 * garbage collection and V8's own work ("(program)"); "(idle)" and "(root)" never count.
 */
export function selfTimes(
  profile: CpuProfile,
  opts: { within?: string; where?: (frame: CallFrame) => string } = {},
): {
  totalUs: number;
  samples: number;
  functions: Array<{ name: string; where: string; selfUs: number; samples: number }>;
} {
  const where = opts.where ?? frameWhere;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Per node: whether its samples count, and its function's key.
  const counts = new Map<number, boolean>();
  const kept = (id: number): boolean => {
    let v = counts.get(id);
    if (v !== undefined) return v;
    const n = nodes.get(id)!;
    const name = n.callFrame.functionName;
    if (name === '(idle)' || name === '(root)') v = false;
    else if (opts.within === undefined || VM_ENTRIES.has(name) || name === opts.within) v = true;
    else {
      const p = parent.get(id);
      v = p !== undefined && kept(p);
    }
    counts.set(id, v);
    return v;
  };
  const groups = new Map<
    string,
    { name: string; where: string; selfUs: number; samples: number }
  >();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let t = profile.startTime;
  let totalUs = 0;
  let count = 0;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    const next = i + 1 < samples.length ? t + (deltas[i + 1] ?? 0) : profile.endTime;
    const id = samples[i]!;
    if (!nodes.has(id) || !kept(id)) continue;
    const frame = nodes.get(id)!.callFrame;
    const w = where(frame);
    const name = functionName(frame);
    const key = `${name}\u0000${w}`;
    const g = groups.get(key) ?? { name, where: w, selfUs: 0, samples: 0 };
    const us = Math.max(0, next - t);
    g.selfUs += us;
    g.samples++;
    groups.set(key, g);
    totalUs += us;
    count++;
  }
  return {
    totalUs,
    samples: count,
    functions: [...groups.values()].sort((a, b) => b.selfUs - a.selfUs),
  };
}

/** A frame's function name: WebAssembly names lose their module prefix ("recurrence/sgemm", "$sgemm"). */
function functionName(frame: CallFrame): string {
  const name = frame.functionName;
  if (frame.url.startsWith('wasm://')) return name.slice(name.indexOf('/') + 1).replace(/^\$/, '');
  return name === '' ? '(anonymous)' : name;
}

/**
 * Where a frame's function lives, short: rnnkit's kernel ("recurrence.wasm": the one module with
 * a name section, whose functions are named after their AssemblyScript file, "sgemm/sgemm",
 * "recurrence/forward"), another WebAssembly module ("wasm"), the npm package of a file
 * ("@rnnkit/cell"; tfjs packages without their "@tensorflow/" scope), a Node built-in
 * ("node:inspector"), or "" for V8's own entries.
 */
export function frameWhere(frame: CallFrame): string {
  const { url, functionName: name } = frame;
  if (url === '') return '';
  if (url.startsWith('wasm://')) return name.indexOf('/') > 0 ? 'recurrence.wasm' : 'wasm';
  if (url.startsWith('file://')) {
    const file = fileURLToPath(url);
    return packageOf(dirname(file)) ?? file.split('/').pop()!;
  }
  if (url.startsWith('node:')) return url;
  return url.split(/[/?#]/).filter(Boolean).pop() ?? url;
}

const packages = new Map<string, string | null>();

/** The name of the nearest package.json's package above `dir` (cached per directory). */
function packageOf(dir: string): string | null {
  const known = packages.get(dir);
  if (known !== undefined) return known;
  let name: string | null = null;
  const file = join(dir, 'package.json');
  if (existsSync(file)) {
    try {
      name = (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name ?? null;
    } catch {
      name = null;
    }
  }
  if (name === null) {
    const up = dirname(dir);
    name = up === dir ? null : packageOf(up);
  }
  name = name?.replace(/^@tensorflow\//, '') ?? null;
  packages.set(dir, name);
  return name;
}

/** K of the L1 probe: a 4×K block of a and a K×8 strip of b (1.5 KB), as sgemm's inner loop reads them. */
const PROBE_K = 32;
const probes = new Map<boolean, (reps: number) => number>();

/**
 * GFLOP/s of sgemm's inner loop (assembly/sgemm.ts, block4x8: per k, two f32x4 loads of b,
 * four splat loads of a, eight f32x4 multiplies and eight adds into eight accumulators; with
 * `relaxed`, eight f32x4.relaxed_madd instead, as the kernel's relaxed-SIMD build) on data in L1
 * cache, on this thread: what the kernel's products could reach if memory cost nothing. Best of
 * five runs of about 20 ms. `relaxed` defaults to the build the kernel uses now.
 */
export function l1Gflops(relaxed = kernelBuild() === 'relaxed'): number {
  let probe = probes.get(relaxed);
  if (!probe) {
    probe = l1Probe(relaxed);
    probes.set(relaxed, probe);
  }
  const flops = (reps: number) => reps * PROBE_K * 64;
  // Short calls for 50 ms: V8 tiers the function up to its optimising compiler meanwhile.
  let t0 = performance.now();
  while (performance.now() - t0 < 50) probe(200);
  t0 = performance.now();
  probe(2000);
  const reps = Math.max(100, Math.round((2000 * 20) / Math.max(performance.now() - t0, 1e-3)));
  let best = 0;
  for (let i = 0; i < 5; i++) {
    t0 = performance.now();
    probe(reps);
    best = Math.max(best, flops(reps) / ((performance.now() - t0) * 1e6));
  }
  return best;
}

/** Builds the probe: a WebAssembly module (SIMD) exporting run(reps) and its memory. */
function l1Probe(relaxed: boolean): (reps: number) => number {
  const uleb = (n: number): number[] => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n !== 0) b |= 0x80;
      out.push(b);
    } while (n !== 0);
    return out;
  };
  const i32 = (n: number): number[] => {
    // i32.const with its signed LEB128 immediate (n < 2^31)
    const out: number[] = [0x41];
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
      out.push(b | 0x80);
    }
  };
  const simd = (op: number) => [0xfd, ...uleb(op)];
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const [F32X4_MUL, F32X4_ADD, V128_LOAD, LOAD32_SPLAT, EXTRACT] = [0xe6, 0xe4, 0x00, 0x09, 0x1f];
  const RELAXED_MADD = 0x105;
  const ROW = PROBE_K * 4; // bytes of a row of a
  const STRIP = 4 * ROW; // b's strip follows the 4 rows of a
  // Locals: 0 reps (param); 1 pa, 2 pb (i32); 3..10 accumulators, 11 b0, 12 b1, 13 x (v128).
  const madd = (acc: number, b: number) =>
    relaxed
      ? [...get(13), ...get(b), ...get(acc), ...simd(RELAXED_MADD), ...set(acc)]
      : [...get(acc), ...get(13), ...get(b), ...simd(F32X4_MUL), ...simd(F32X4_ADD), ...set(acc)];
  const body = [
    2,
    2,
    0x7f,
    11,
    0x7b,
    ...[0x02, 0x40, 0x03, 0x40], // block, loop (reps)
    ...get(0),
    0x45,
    0x0d,
    1, // reps == 0: done
    ...i32(0),
    ...set(1),
    ...i32(STRIP),
    ...set(2),
    0x03,
    0x40, // loop (k)
    ...get(2),
    ...simd(V128_LOAD),
    4,
    0,
    ...set(11),
    ...get(2),
    ...simd(V128_LOAD),
    4,
    16,
    ...set(12),
    ...[0, 1, 2, 3].flatMap((r) => [
      ...get(1),
      ...simd(LOAD32_SPLAT),
      2,
      ...uleb(r * ROW),
      ...set(13),
      ...madd(3 + 2 * r, 11),
      ...madd(4 + 2 * r, 12),
    ]),
    ...[...get(1), ...i32(4), 0x6a, ...set(1)], // pa += 4
    ...[...get(2), ...i32(32), 0x6a, ...set(2)], // pb += 32
    ...[...get(1), ...i32(ROW), 0x49, 0x0d, 0], // pa < ROW: next k
    0x0b,
    ...[...get(0), ...i32(1), 0x6b, ...set(0)], // reps -= 1
    ...[0x0c, 0, 0x0b, 0x0b],
    ...get(3),
    ...[4, 5, 6, 7, 8, 9, 10].flatMap((a) => [...get(a), ...simd(F32X4_ADD)]),
    ...simd(EXTRACT),
    0,
    0x0b,
  ];
  const section = (id: number, bytes: number[]) => [id, ...uleb(bytes.length), ...bytes];
  const str = (s: string) => [s.length, ...[...s].map((ch) => ch.charCodeAt(0))];
  const bytes = new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]), // (i32) -> f32
    ...section(3, [1, 0]),
    ...section(5, [1, 0, 1]), // one page
    ...section(7, [2, ...str('run'), 0, 0, ...str('memory'), 2, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const { run, memory } = instance.exports as {
    run: (reps: number) => number;
    memory: WebAssembly.Memory;
  };
  // Small normal values: no denormals, no overflow.
  new Float32Array(memory.buffer, 0, STRIP / 4 + PROBE_K * 8).fill(1e-3);
  return run;
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
