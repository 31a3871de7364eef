/**
 * One case on one backend: builds every implementation with the same weights and input, then
 * hands them to timeContenders (contenders.ts), which checks each one's output against rnnkit's,
 * warms it up and times them all in interleaved rounds.
 */
import { existsSync, readFileSync } from 'node:fs';
import { kernelBuild } from '@rnnkit/cell/internal';
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
import { type Contender, oneThread, plainSimd, timeContenders } from './contenders.js';
import { buildLayersModel, type TorchWeights, torchWeights } from './layers.js';
import { naiveForward } from './naive.js';
import { modelFile, type OnnxModels, ortSession, ortTensor } from './onnx.js';
import { ortNodeSession, ortNodeTensor } from './onnx-node.js';
import { runOrt } from './onnx-sessions.js';
import type { CaseResult, ImplName, ImplResult } from './results.js';
import { type RepPolicy, randomArray } from './stats.js';
import { torchTrainer } from './torch.js';

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
