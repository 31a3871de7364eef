/**
 * The sequence-to-sequence bench: the G2P model of apps/examples at its default size, with weights
 * PyTorch wrote (export_seq2seq.py). Times, on one tfjs backend:
 * - the decoder step (B 1, attention over an 8-letter word): rnnkit's Seq2Seq.step, a plain tfjs
 *   step written op by op, and ONNX Runtime Web (wasm, one thread) on torch.onnx.export's step;
 *   all three give the same logits (checked), and are timed as the main bench times its cases;
 * - the teacher-forced training step (B 128, S 9, T 9: forward, loss, backward, clip, Adam), rnnkit
 *   against PyTorch's own time from the export script;
 * - beam search (beam 5) over 64 words: words per second.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setKernelThreads } from '@rnnkit/cell';
import { beamSearch, Seq2Seq, type Seq2SeqOptions, type Seq2SeqState } from '@rnnkit/heads';
import { crossEntropy, loadSafetensors, manualSeed, setBackend, trainStep } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-web';
import type { BackendName } from './cases.js';
import { APP_DIR, ortSession } from './onnx.js';
import { maxAbsDiff, POLICIES, summarize } from './stats.js';
import { sample, warmUp } from './timing.js';

export const SEQ2SEQ_SCRIPT = join(APP_DIR, 'export_seq2seq.py');

export interface Seq2SeqBench {
  backend: BackendName;
  kernelThreads: number;
  torch: { version: string; threads: number; trainStepMs: number; decoderStepMs: number };
  decoderStepMs: { rnnkit: number; plainTfjs: number; onnxRuntimeWeb: number };
  maxLogitDiff: { plainTfjs: number; onnxRuntimeWeb: number };
  trainStepMs: { rnnkit: number; pytorch: number };
  beamWordsPerSecond: number;
}

/**
 * Median milliseconds of one call of each of `fns`, as the main bench times its cases (run.ts):
 * each warmed up by time (V8 tiers up JavaScript only after many calls), then interleaved rounds
 * of one sample each, a sample timing enough consecutive calls to last 10 ms.
 */
async function timeInterleaved<K extends string>(
  fns: Record<K, () => unknown>,
): Promise<Record<K, number>> {
  const plans = [];
  for (const name of Object.keys(fns) as K[]) {
    const k = { call: fns[name] };
    plans.push({ name, k, ...(await warmUp(k, [], POLICIES.full)), times: [] as number[] });
  }
  for (let round = 0; round < Math.max(...plans.map((p) => p.samples)); round++) {
    for (const p of plans) if (round < p.samples) p.times.push(await sample(p.k, p.batch));
  }
  return Object.fromEntries(plans.map((p) => [p.name, summarize(p.times).medianMs])) as Record<
    K,
    number
  >;
}

/** Median milliseconds of `fn` over `reps` calls after 3 warm-ups (slow calls). */
async function time(fn: () => unknown | Promise<unknown>, reps: number): Promise<number> {
  for (let i = 0; i < 3; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return summarize(samples).medianMs;
}

/** One decoder step with plain tfjs ops on the state dict `w` (GRU, general attention). */
function plainStep(
  w: Record<string, tf.Tensor>,
  token: tf.Tensor1D,
  h: tf.Tensor2D,
  keys: tf.Tensor2D,
  projected: tf.Tensor2D,
): { logits: tf.Tensor2D; h: tf.Tensor2D } {
  return tf.tidy(() => {
    const H = h.shape[1];
    const e = tf.gather(w['tgt_embedding.weight'], token);
    const gi = tf.add(
      tf.matMul(e, w['decoder.weight_ih_l0'], false, true),
      w['decoder.bias_ih_l0'],
    );
    const gh = tf.add(
      tf.matMul(h, w['decoder.weight_hh_l0'], false, true),
      w['decoder.bias_hh_l0'],
    );
    const part = (x: tf.Tensor, k: number) => tf.slice(x, [0, k * H], [-1, H]);
    const r = tf.sigmoid(tf.add(part(gi, 0), part(gh, 0)));
    const z = tf.sigmoid(tf.add(part(gi, 1), part(gh, 1)));
    const n = tf.tanh(tf.add(part(gi, 2), tf.mul(r, part(gh, 2))));
    const hNext = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h)) as tf.Tensor2D;
    const a = tf.softmax(tf.matMul(hNext, projected, false, true));
    const ctx = tf.matMul(a, keys);
    const hidden = tf.tanh(tf.matMul(tf.concat([ctx, hNext], 1), w['combine.weight'], false, true));
    const logits = tf.add(
      tf.matMul(hidden, w['out.weight'], false, true),
      w['out.bias'],
    ) as tf.Tensor2D;
    return { logits, h: hNext };
  });
}

/** Runs export_seq2seq.py into `dir` (weights, ONNX step, PyTorch's times) and returns its JSON. */
export function exportSeq2Seq(
  python: string,
  dir: string,
): Seq2SeqBench['torch'] & { config: Seq2SeqOptions } {
  const r = spawnSync(python, ['-W', 'ignore', SEQ2SEQ_SCRIPT, dir], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`export_seq2seq.py failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return {
    version: j.torch,
    threads: j.threads,
    trainStepMs: j.trainStepMs,
    decoderStepMs: j.decoderStepMs,
    config: j.config,
  };
}

export async function runSeq2SeqBench(opts: {
  backend: BackendName;
  dir: string;
  python: string;
  reps: number;
}): Promise<Seq2SeqBench> {
  const torch = exportSeq2Seq(opts.python, opts.dir);
  await setBackend(opts.backend);
  const kernelThreads = await setKernelThreads();
  const sd = loadSafetensors(
    new Uint8Array(readFileSync(join(opts.dir, 'seq2seq_g2p.safetensors'))),
  );
  const model = new Seq2Seq(torch.config);
  model.loadStateDict(sd);
  model.eval();
  const S = 8;
  const src = tf.tensor2d([[3, 9, 14, 14, 12, 10, 21, 7]], [1, S], 'int32');
  const state = model.encode(src, [S]);
  const token = tf.tensor1d([1], 'int32');
  const keys = tf.reshape(state.memory.keys, [S, -1]) as tf.Tensor2D;
  const projected = tf.reshape(state.memory.projected!, [S, -1]) as tf.Tensor2D;
  const h = tf.reshape(state.h, [1, -1]) as tf.Tensor2D;
  const free = (s: Seq2SeqState) => tf.dispose([s.h, s.c, s.feed]);
  // the three steps, each reading its logits back
  const ours = () => {
    const r = model.step(token, state);
    const d = r.logits.dataSync();
    tf.dispose([r.logits, r.attention]);
    free(r.state);
    return d;
  };
  const plain = () => {
    const r = plainStep(sd, token, h, keys, projected);
    const d = r.logits.dataSync();
    tf.dispose([r.logits, r.h]);
    return d;
  };
  const session = await ortSession(join(opts.dir, 'seq2seq_step.onnx'));
  const feeds = {
    token: new ort.Tensor('int64', BigInt64Array.from([1n]), [1]),
    h: new ort.Tensor('float32', h.dataSync() as Float32Array, [1, 1, h.shape[1]]),
    keys: new ort.Tensor('float32', keys.dataSync() as Float32Array, [1, S, keys.shape[1]]),
    projected: new ort.Tensor('float32', projected.dataSync() as Float32Array, [
      1,
      S,
      projected.shape[1],
    ]),
  };
  const onnx = async () => {
    const r = await session.run(feeds);
    const d = r.logits.data as Float32Array;
    for (const t of Object.values(r)) t.dispose();
    return d;
  };
  const ref = ours();
  const maxLogitDiff = {
    plainTfjs: maxAbsDiff(ref, plain()),
    onnxRuntimeWeb: maxAbsDiff(ref, await onnx()),
  };
  if (!(Math.max(maxLogitDiff.plainTfjs, maxLogitDiff.onnxRuntimeWeb) < 1e-4)) {
    throw new Error(`seq2seq bench: the decoder steps disagree (${JSON.stringify(maxLogitDiff)})`);
  }
  const decoderStepMs = await timeInterleaved({
    rnnkit: ours,
    plainTfjs: plain,
    onnxRuntimeWeb: onnx,
  });
  // training step, same shapes as the PyTorch timing
  manualSeed(3);
  const trainModel = new Seq2Seq(torch.config);
  const B = 128;
  const tsrc = tf.randomUniform([B, S + 1], 2, 31, 'int32');
  const tin = tf.randomUniform([B, 9], 3, 72, 'int32');
  const tout = tf.randomUniform([B, 9], 3, 72, 'int32');
  const lengths = Array.from({ length: B }, (_, i) => 4 + (i % 6));
  const adam = tf.train.adam(1e-3);
  const train = () =>
    trainStep(trainModel, () => crossEntropy(trainModel.forward(tsrc, lengths, tin), tout), adam, {
      clipNorm: 5,
    });
  const trainMs = await time(train, opts.reps);
  // beam search over 64 words
  const words = tf.randomUniform([64, S], 2, 31, 'int32');
  const wordsState = model.encode(words, new Array(64).fill(S));
  const beamMs = await time(
    () => beamSearch(model, wordsState, { beamSize: 5, maxLength: 20, bos: 1, eos: 2 }),
    Math.max(1, Math.ceil(opts.reps / 4)),
  );
  tf.dispose([src, token, keys, projected, h, tsrc, tin, tout, words, ...Object.values(sd)]);
  tf.dispose([state as unknown as tf.TensorContainer, wordsState as unknown as tf.TensorContainer]);
  adam.dispose();
  model.dispose();
  trainModel.dispose();
  return {
    backend: opts.backend,
    kernelThreads,
    torch: {
      version: torch.version,
      threads: torch.threads,
      trainStepMs: torch.trainStepMs,
      decoderStepMs: torch.decoderStepMs,
    },
    decoderStepMs,
    maxLogitDiff,
    trainStepMs: { rnnkit: trainMs, pytorch: torch.trainStepMs },
    beamWordsPerSecond: 64 / (beamMs / 1000),
  };
}

/** The result as a Markdown table. */
export function seq2seqMarkdown(r: Seq2SeqBench): string {
  const f = (x: number) => (x < 1 ? x.toFixed(3) : x.toFixed(1));
  return [
    `| case (${r.backend}, kernel threads ${r.kernelThreads}) | rnnkit | plain tfjs | ONNX Runtime Web | PyTorch ${r.torch.version} (${r.torch.threads} thread) |`,
    '| --- | --- | --- | --- | --- |',
    `| decoder step, B 1, ms | ${f(r.decoderStepMs.rnnkit)} | ${f(r.decoderStepMs.plainTfjs)} | ${f(r.decoderStepMs.onnxRuntimeWeb)} | ${f(r.torch.decoderStepMs)} |`,
    `| training step, B 128, ms | ${f(r.trainStepMs.rnnkit)} | | | ${f(r.trainStepMs.pytorch)} |`,
    `| beam search (5), words/s | ${f(r.beamWordsPerSecond)} | | | |`,
    '',
    `Logits of the plain tfjs and ONNX steps differ from rnnkit's by at most ${Math.max(r.maxLogitDiff.plainTfjs, r.maxLogitDiff.onnxRuntimeWeb).toExponential(1)}.`,
  ].join('\n');
}
