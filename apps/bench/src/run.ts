/**
 * One case on one backend: builds every implementation with the same weights and input, checks
 * each one's output against rnnkit's, warms each one up for a while, then times them in
 * interleaved rounds (so a slow phase of this noisy machine hits every column alike); a sample of
 * a fast call times a batch of consecutive calls.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ENGINE_DEFAULTS, enginePolicy, kernelBuild } from '@rnnkit/cell/internal';
import {
  ensureGradients,
  loadSafetensors,
  manualSeed,
  mseLoss,
  setBackend,
  trainStep,
} from '@rnnkit/ops';
import { createLayer } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName, BenchCase, CellKind } from './cases.js';
import { buildLayersModel, type TorchWeights, torchWeights } from './layers.js';
import { naiveForward } from './naive.js';
import { modelFile, type OnnxModels, ortSession, ortTensor } from './onnx.js';
import { ortNodeSession, ortNodeTensor } from './onnx-node.js';
import { runOrt } from './onnx-sessions.js';
import {
  maxAbsDiff,
  type RepPolicy,
  randomArray,
  type SamplePlan,
  type Summary,
  summarize,
} from './stats.js';
import { callWhile, sample, type Timed, warmUp } from './timing.js';
import { torchTrainer } from './torch.js';

export const IMPLS = [
  'rnnkit',
  'rnnkit-1-thread',
  'rnnkit-plain-simd',
  'tfjs-layers',
  'naive',
  'ort',
  'ort-node',
  'ort-node-1-thread',
  'torch',
  'tfjs-layers-stock-gru',
] as const;
export type ImplName = (typeof IMPLS)[number];

/** Outputs must agree with rnnkit's to this (max abs difference; for training, the first loss). */
export const TOLERANCE = 1e-4;

export interface ImplResult {
  /**
   * ok: checked equal, timed. mismatch: output differs from rnnkit's, not timed.
   * different: a different function by design (stock tfjs-layers GRU), timed for reference.
   * skipped / error: not run (reason says why).
   */
  status: 'ok' | 'mismatch' | 'different' | 'skipped' | 'error';
  reason?: string;
  /** Timed by its first (cold) call alone: too slow to repeat. */
  cold?: boolean;
  maxAbsDiff?: number;
  /** Warm-up calls (ms); the first one also produced the checked output. */
  warmupMs?: number[];
  /** Calls per timed sample: each sample times this many consecutive calls. */
  batch?: number;
  /** Per-call time of each sample (ms): the sample's total time / batch. */
  samplesMs?: number[];
  summary?: Summary;
  /** Their median / rnnkit's median (rnnkit is faster when > 1). */
  speedup?: number;
  /** Tensors left behind over all timed calls (0 when nothing leaks). */
  leakedTensors?: number;
}

export interface CaseResult {
  id: string;
  cell: CellKind;
  group: BenchCase['group'];
  mode: BenchCase['mode'];
  shape: BenchCase['shape'];
  backend: BackendName;
  impls: Partial<Record<ImplName, ImplResult>>;
}

export interface RunOptions {
  policy: RepPolicy;
  onnx: OnnxModels | null;
  /** Whether this pass also runs ONNX Runtime Web (it does not depend on the tfjs backend). */
  withOrt: boolean;
  /** A first call slower than this is not repeated: the column reports that one run. */
  slowLimitMs: number;
  /** Implementations to leave out, with the reason shown in their column. */
  exclude?: Partial<Record<ImplName, string>>;
  /** Python with torch, for PyTorch's training step (null: no torch, or not asked for). */
  python?: string | null;
  /** Threads rnnkit's kernel uses in this run; above 1, rnnkit is also timed on one thread. */
  threads: number;
  progress?: (task: string) => void;
}

/** Its call returns the output sequence (forward) or the loss before the update (train). */
interface Contender extends Timed<Float32Array | number> {
  name: ImplName;
  dispose: () => void;
  different?: boolean;
}

/**
 * Hooks that run a contender's calls with the kernel on one thread (no call split), then restore
 * the split policy. The workers stay up: stopped and started again around every sample
 * (setKernelThreads), they took the CPU from the contenders timed next while they started.
 */
const oneThread: Pick<Contender, 'enter' | 'exit'> = {
  enter: async () => {
    enginePolicy.minParallelWork = Number.POSITIVE_INFINITY;
    enginePolicy.minStepWork = Number.POSITIVE_INFINITY;
  },
  exit: async () => {
    enginePolicy.minParallelWork = ENGINE_DEFAULTS.minParallelWork;
    enginePolicy.minStepWork = ENGINE_DEFAULTS.minStepWork;
  },
};

/**
 * Hooks that run a contender's calls on the kernel's plain SIMD build (where the relaxed-SIMD
 * build is in use), then restore the default.
 */
const plainSimd: Pick<Contender, 'enter' | 'exit'> = {
  enter: async () => {
    enginePolicy.relaxedSimd = false;
  },
  exit: async () => {
    enginePolicy.relaxedSimd = ENGINE_DEFAULTS.relaxedSimd;
  },
};

function makeRnnkit(cell: CellKind, I: number, H: number) {
  return createLayer(cell, { inputSize: I, hiddenSize: H, batchFirst: true });
}

function onnxAvailableFor(
  onnx: OnnxModels | null,
  c: BenchCase,
): onnx is OnnxModels & {
  available: true;
} {
  if (!onnx?.available) return false;
  return existsSync(modelFile(onnx.dir, c.cell, c.shape.I, c.shape.H, 'onnx'));
}

/** Seconds as the progress bar shows them. */
function fmtEta(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export async function runCase(
  c: BenchCase,
  backend: BackendName,
  opts: RunOptions,
): Promise<CaseResult> {
  await setBackend(backend);
  ensureGradients(); // the naive loop trains with tf.variableGrads
  const { B, T, I, H } = c.shape;
  const result: CaseResult = {
    id: c.id,
    cell: c.cell,
    group: c.group,
    mode: c.mode,
    shape: c.shape,
    backend,
    impls: {},
  };
  const progress = opts.progress ?? (() => {});
  const seed = 1 + ['rnn', 'lstm', 'gru'].indexOf(c.cell) * 7919 + c.shape.I * 31 + c.shape.T;
  const xData = randomArray(B * T * I, seed);
  const yData = c.mode === 'train' ? randomArray(B * T * H, seed + 1) : null;

  // rnnkit's weights: the ONNX export's when there is one for this size, else seeded init.
  const model = (() => {
    if (onnxAvailableFor(opts.onnx, c)) {
      const m = makeRnnkit(c.cell, I, H);
      const sd = loadSafetensors(
        new Uint8Array(readFileSync(modelFile(opts.onnx.dir, c.cell, I, H, 'safetensors'))),
      );
      try {
        m.loadStateDict(sd);
      } finally {
        tf.dispose(Object.values(sd));
      }
      return m;
    }
    manualSeed(seed);
    return makeRnnkit(c.cell, I, H);
  })();
  const sd = model.stateDict();
  const w: TorchWeights = torchWeights(sd);
  const x = tf.tensor3d(xData, [B, T, I]);
  const y = yData ? tf.tensor3d(yData, [B, T, H]) : null;

  const contenders: Contender[] = [];
  const fail = (name: ImplName, status: ImplResult['status'], reason: string) => {
    result.impls[name] = { status, reason };
  };
  const add = (name: ImplName, build: () => Omit<Contender, 'name'>) => {
    const why = opts.exclude?.[name];
    if (why) return fail(name, 'skipped', why);
    try {
      contenders.push({ name, ...build() });
    } catch (e) {
      fail(name, 'error', (e as Error).message);
    }
  };
  const readForward = (f: () => tf.Tensor) => async () => {
    const out = tf.tidy(f);
    const data = out.dataSync() as Float32Array;
    out.dispose();
    return data;
  };

  if (c.mode === 'forward') {
    model.eval();
    const ours = { call: readForward(() => model.forward(x)[0]), dispose: () => {} };
    add('rnnkit', () => ours);
    if (opts.threads > 1) add('rnnkit-1-thread', () => ({ ...ours, ...oneThread }));
    if (kernelBuild() === 'relaxed') add('rnnkit-plain-simd', () => ({ ...ours, ...plainSimd }));
    add('tfjs-layers', () => {
      const { model: km, layer } = buildLayersModel(c.cell, w);
      return { call: readForward(() => layer.apply(x) as tf.Tensor), dispose: () => km.dispose() };
    });
    // Stock tf.layers.gru, for reference (what a tfjs-layers user gets): wasm only, to save time.
    if (c.cell === 'gru' && backend === 'wasm') {
      add('tfjs-layers-stock-gru', () => {
        const { model: km, layer } = buildLayersModel(c.cell, w, { stockGru: true });
        return {
          call: readForward(() => layer.apply(x) as tf.Tensor),
          dispose: () => km.dispose(),
          different: true,
        };
      });
    }
    add('naive', () => ({
      call: readForward(() => naiveForward(c.cell, w, x)),
      dispose: () => {},
    }));
    if (opts.withOrt) {
      if (!onnxAvailableFor(opts.onnx, c)) {
        const reason =
          opts.onnx === null
            ? 'skipped: --no-onnx'
            : !opts.onnx.available
              ? `skipped: ${opts.onnx.reason}`
              : `skipped: no model for I=${I}, H=${H}`;
        if (!opts.exclude?.ort) fail('ort', 'skipped', reason);
        fail('ort-node', 'skipped', reason);
      } else {
        const session = await ortSession(modelFile(opts.onnx.dir, c.cell, I, H, 'onnx'));
        const xo = ortTensor(xData, [B, T, I]);
        add('ort', () => ({ call: () => runOrt(session, xo), dispose: () => xo.dispose() }));
        // onnxruntime-node with rnnkit's threads, and on one thread against rnnkit on one.
        const file = modelFile(opts.onnx.dir, c.cell, I, H, 'onnx');
        const xn = ortNodeTensor(xData, [B, T, I]);
        const native = await ortNodeSession(file, opts.threads);
        add('ort-node', () => ({ call: () => runOrt(native, xn), dispose: () => {} }));
        if (opts.threads > 1) {
          const one = await ortNodeSession(file, 1);
          add('ort-node-1-thread', () => ({
            call: () => runOrt(one, xn),
            dispose: () => {},
          }));
        }
      }
    }
  } else {
    model.train();
    const target = y!;
    /** One trainStep of `m` with Adam per call, with its own optimizer. */
    const trainer = (m: ReturnType<typeof makeRnnkit>) => {
      const opt = tf.train.adam(1e-3);
      return {
        call: async () =>
          trainStep(m, () => mseLoss(m.forward(x)[0], target) as tf.Scalar, opt).loss,
        dispose: () => opt.dispose(),
      };
    };
    add('rnnkit', () => trainer(model));
    if (opts.threads > 1) {
      // Its own copy of the initial weights and optimizer, as every other contender.
      add('rnnkit-1-thread', () => {
        const m = makeRnnkit(c.cell, I, H);
        m.loadStateDict(sd);
        m.train();
        const t = trainer(m);
        return {
          call: t.call,
          dispose: () => {
            t.dispose();
            m.dispose();
          },
          ...oneThread,
        };
      });
    }
    add('tfjs-layers', () => {
      const { model: km } = buildLayersModel(c.cell, w);
      const opt = tf.train.adam(1e-3);
      km.compile({ optimizer: opt, loss: 'meanSquaredError' });
      return {
        call: async () => {
          const l = await km.trainOnBatch(x, target);
          return Array.isArray(l) ? l[0] : l;
        },
        dispose: () => {
          km.dispose();
          opt.dispose();
        },
      };
    });
    add('naive', () => {
      const vars = {
        weight_ih: tf.variable(w.weight_ih),
        weight_hh: tf.variable(w.weight_hh),
        bias_ih: tf.variable(w.bias_ih),
        bias_hh: tf.variable(w.bias_hh),
      };
      const opt = tf.train.adam(1e-3);
      return {
        call: async () => {
          const { value, grads } = tf.variableGrads(
            () => tf.mean(tf.squaredDifference(naiveForward(c.cell, vars, x), target)) as tf.Scalar,
            Object.values(vars),
          );
          opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
          const loss = value.dataSync()[0];
          tf.dispose([value, ...Object.values(grads)]);
          return loss;
        },
        dispose: () => {
          tf.dispose(Object.values(vars));
          opt.dispose();
        },
      };
    });
    if (opts.withOrt && !opts.exclude?.ort) fail('ort', 'skipped', 'n/a: inference only');
    // PyTorch on rnnkit's threads, in its own process (once per case: on the ONNX pass).
    if (opts.withOrt && opts.python) {
      try {
        const t = await torchTrainer(opts.python, c.cell, opts.threads, sd, x, target);
        add('torch', () => ({ call: t.step, dispose: t.close }));
      } catch (e) {
        fail('torch', 'error', (e as Error).message);
      }
    } else if (opts.withOrt) fail('torch', 'skipped', 'skipped: no torch');
  }

  try {
    await timeContenders(c, backend, contenders, result, opts, progress);
  } finally {
    for (const k of contenders) k.dispose();
    model.dispose();
    tf.dispose([x, ...(y ? [y] : []), ...Object.values(sd)]);
  }
  return result;
}

async function timeContenders(
  c: BenchCase,
  backend: BackendName,
  contenders: Contender[],
  result: CaseResult,
  opts: RunOptions,
  progress: (task: string) => void,
): Promise<void> {
  const tag = `${c.id} ${backend}`;
  // Check, then warm up. The first call's output is the one compared with rnnkit's.
  let reference: Float32Array | number | null = null;
  const timed: Array<{
    k: Contender;
    r: ImplResult;
    reps: number;
    batch: number;
    samples: number[];
  }> = [];
  for (const k of contenders) {
    progress(`${tag} ${k.name} check`);
    const r: ImplResult = { status: 'ok', warmupMs: [] };
    result.impls[k.name] = r;
    let out: Float32Array | number;
    try {
      let calls = 0;
      out = (await callWhile(k, r.warmupMs!, () => calls++ === 0))!;
    } catch (e) {
      result.impls[k.name] = { status: 'error', reason: (e as Error).message };
      continue;
    }
    if (k.name === 'rnnkit') reference = out;
    if (reference === null) {
      result.impls[k.name] = { status: 'skipped', reason: 'no rnnkit output to check against' };
      continue;
    }
    const diff =
      typeof out === 'number' || typeof reference === 'number'
        ? Math.abs(Number(out) - Number(reference))
        : maxAbsDiff(out, reference);
    r.maxAbsDiff = diff;
    if (!(diff <= TOLERANCE)) {
      if (!k.different) {
        r.status = 'mismatch';
        r.reason = `max |diff| ${diff.toExponential(1)} > ${TOLERANCE}`;
        continue;
      }
      r.status = 'different';
      r.reason = `a different function (max |diff| ${diff.toExponential(1)})`;
    }
    const first = r.warmupMs![0];
    if (first > opts.slowLimitMs) {
      // Too slow to repeat within the time budget: its one (cold) run is all there is.
      r.samplesMs = [first];
      r.summary = summarize([first]);
      r.batch = 1;
      r.cold = true;
      r.reason = `one cold run only (${fmtEta(first)} > ${fmtEta(opts.slowLimitMs)} limit)`;
      continue;
    }
    progress(`${tag} ${k.name} warm-up`);
    let plan: SamplePlan;
    try {
      plan = await warmUp(k, r.warmupMs!, opts.policy);
    } catch (e) {
      result.impls[k.name] = { status: 'error', reason: (e as Error).message };
      continue;
    }
    r.batch = plan.batch;
    timed.push({ k, r, reps: plan.samples, batch: plan.batch, samples: [] });
  }

  // Interleaved timed rounds: each round takes one sample of every implementation.
  const rounds = Math.max(0, ...timed.map((t) => t.reps));
  const leaks = new Map<ImplName, number>();
  for (let round = 0; round < rounds; round++) {
    for (const t of timed) {
      if (round >= t.reps) continue;
      progress(`${tag} ${t.k.name} ${round + 1}/${t.reps}${t.batch > 1 ? ` ×${t.batch}` : ''}`);
      const before = tf.memory().numTensors;
      try {
        t.samples.push(await sample(t.k, t.batch));
      } catch (e) {
        t.r.status = 'error';
        t.r.reason = (e as Error).message;
        t.reps = round;
        continue;
      }
      leaks.set(t.k.name, (leaks.get(t.k.name) ?? 0) + tf.memory().numTensors - before);
    }
  }
  for (const t of timed) {
    if (t.samples.length === 0) continue;
    t.r.samplesMs = t.samples;
    t.r.summary = summarize(t.samples);
    t.r.leakedTensors = leaks.get(t.k.name) ?? 0;
  }
}

/** Fills in speedups (their median / rnnkit's) where both were timed. */
export function addSpeedups(r: CaseResult, ortFrom?: CaseResult): void {
  // ONNX Runtime does not depend on tfjs's backend: one pass times it, every pass shows it.
  for (const name of ['ort', 'ort-node', 'ort-node-1-thread', 'torch'] as const) {
    const theirs = ortFrom?.impls[name];
    if (ortFrom !== r && theirs && !r.impls[name]) r.impls[name] = { ...theirs };
  }
  const ours = r.impls.rnnkit?.summary?.medianMs;
  for (const [name, v] of Object.entries(r.impls)) {
    if (name === 'rnnkit' || !v) continue;
    if (ours && v.summary) v.speedup = v.summary.medianMs / ours;
    else delete v.speedup;
  }
}
