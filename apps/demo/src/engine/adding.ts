import { ensureGradients, getBackend, manualSeed, mseLoss, trainStep } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { SequenceRegressor } from './model.js';
import { type CellType, checkCell, checkInt, checkPositive } from './options.js';
import { DataRng } from './rng.js';

/**
 * The MSE of always answering 1 (the mean of the target): Var(U1 + U2) = 2/12. A model whose loss
 * goes below this has learned to pick out the marked values, not just the average.
 */
export const ADDING_BASELINE = 1 / 6;

export interface AddingBatch {
  /** [B, T, 2]: channel 0 a value in [0, 1), channel 1 a marker (exactly two ones). */
  x: Float32Array;
  /** [B]: the sum of the two marked values. */
  y: Float32Array;
  batch: number;
  seqLen: number;
}

/**
 * One batch of the adding problem (Hochreiter & Schmidhuber): the first marker falls in the first
 * half of the sequence, the second in the second half, so the answer needs memory across ~T/2 steps.
 */
export function addingBatch(rng: DataRng, batch: number, seqLen: number): AddingBatch {
  checkInt(seqLen, 'addingBatch(seqLen)', 2, 100_000);
  const x = new Float32Array(batch * seqLen * 2);
  const y = new Float32Array(batch);
  const half = Math.floor(seqLen / 2);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < seqLen; t++) x[(b * seqLen + t) * 2] = rng.next();
    const i = rng.int(0, half);
    const j = rng.int(half, seqLen);
    x[(b * seqLen + i) * 2 + 1] = 1;
    x[(b * seqLen + j) * 2 + 1] = 1;
    y[b] = x[(b * seqLen + i) * 2] + x[(b * seqLen + j) * 2];
  }
  return { x, y, batch, seqLen };
}

function batchTensors(d: AddingBatch): { x: tf.Tensor3D; y: tf.Tensor2D } {
  return {
    x: tf.tensor3d(d.x, [d.batch, d.seqLen, 2]),
    y: tf.tensor2d(d.y, [d.batch, 1]),
  };
}

export interface StepInfo {
  /** 1-based */
  step: number;
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

export interface TrainAddingOptions {
  /** Recurrent layer: RNN, LSTM, GRU (batchFirst) or MyRNN. */
  cell: CellType;
  hiddenSize?: number;
  seqLen?: number;
  steps?: number;
  /** Adam learning rate (default 0.01). */
  lr?: number;
  /** Clip the global gradient norm to this (null or undefined: no clipping). */
  clipNorm?: number | null;
  seed?: number;
  batchSize?: number;
  /** Called after every step. */
  onStep?: (info: StepInfo) => void;
  /** Stops training before the next step once aborted. */
  signal?: AbortSignal;
  /** Stops training before the next step once it returns true. */
  shouldStop?: () => boolean;
  /** Yield to the event loop after this many ms of work (so stop messages get through); 0: never. */
  yieldMs?: number;
}

export interface TrainAddingResult {
  cell: CellType;
  backend: string;
  /** Steps completed. */
  steps: number;
  stopped: boolean;
  firstLoss: number;
  finalLoss: number;
  /** Mean of the last min(20, steps) losses: less noisy than finalLoss. */
  recentLoss: number;
  losses: number[];
  gradNorms: number[];
  seconds: number;
  baseline: number;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Trains `cell` + Linear on the last step on the adding problem with Adam and trainStep (BPTT over
 * the whole sequence, optional clipping), a fresh seeded batch each step. Stoppable between steps
 * (signal / shouldStop); disposes everything it creates.
 */
export async function trainAdding(opts: TrainAddingOptions): Promise<TrainAddingResult> {
  const cell = checkCell(opts.cell, 'trainAdding({ cell })');
  const hiddenSize = checkInt(opts.hiddenSize ?? 32, 'trainAdding({ hiddenSize })', 1, 4096);
  const seqLen = checkInt(opts.seqLen ?? 20, 'trainAdding({ seqLen })', 2, 10_000);
  const steps = checkInt(opts.steps ?? 300, 'trainAdding({ steps })', 1, 1_000_000);
  const lr = checkPositive(opts.lr ?? 0.01, 'trainAdding({ lr })');
  const clipNorm =
    opts.clipNorm == null ? undefined : checkPositive(opts.clipNorm, 'trainAdding({ clipNorm })');
  const seed = checkInt(opts.seed ?? 0, 'trainAdding({ seed })', 0, 2 ** 32 - 1);
  const batchSize = checkInt(opts.batchSize ?? 32, 'trainAdding({ batchSize })', 1, 4096);
  const yieldMs = opts.yieldMs ?? 20;
  const stop = () => opts.signal?.aborted === true || opts.shouldStop?.() === true;

  const start = performance.now();
  manualSeed(seed);
  const rng = new DataRng(seed + 1);
  const model = new SequenceRegressor({ cell, inputSize: 2, hiddenSize });
  const optimizer = tf.train.adam(lr);
  const losses: number[] = [];
  const gradNorms: number[] = [];
  let stopped = false;
  let lastYield = performance.now();
  try {
    for (let step = 1; step <= steps; step++) {
      if (stop()) {
        stopped = true;
        break;
      }
      const { x, y } = batchTensors(addingBatch(rng, batchSize, seqLen));
      let info: { loss: number; gradNorm: number };
      try {
        info = trainStep(
          model,
          () => mseLoss(model.forward(x), y),
          optimizer,
          clipNorm === undefined ? {} : { clipNorm },
        );
      } finally {
        tf.dispose([x, y]);
      }
      losses.push(info.loss);
      gradNorms.push(info.gradNorm);
      opts.onStep?.({ step, loss: info.loss, gradNorm: info.gradNorm });
      if (yieldMs > 0 && performance.now() - lastYield > yieldMs) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  const recent = losses.slice(-20);
  return {
    cell,
    backend: getBackend(),
    steps: losses.length,
    stopped,
    firstLoss: losses[0] ?? Number.NaN,
    finalLoss: losses.at(-1) ?? Number.NaN,
    recentLoss: recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : Number.NaN,
    losses,
    gradNorms,
    seconds: (performance.now() - start) / 1000,
    baseline: ADDING_BASELINE,
  };
}

export interface GradientFlowOptions {
  cell: CellType;
  hiddenSize?: number;
  seqLen?: number;
  seed?: number;
  batchSize?: number;
  /** Multiply the recurrent weights by this after init (> 1: towards exploding). Default 1. */
  gain?: number;
  /** Also report what clip_grad_norm_(maxNorm) would do to this backward pass. */
  clipNorm?: number | null;
}

export interface GradientFlowResult {
  cell: CellType;
  backend: string;
  /** |dL/dx_t| for t = 0..T-1 (L2 norm over the batch and the input features). */
  norms: number[];
  /** Global norm of the parameter gradients of the same loss. */
  paramGradNorm: number;
  /** The factor clipping applies to every gradient of this pass: min(1, maxNorm / norm); 1 without clipping. */
  clipFactor: number;
  /** norms * clipFactor: the gradient reaching each step once clipped (equal to norms without clipping). */
  clippedNorms: number[];
  /** norms[0] / norms[T-1]: << 1 vanishing, >> 1 exploding. */
  ratio: number;
  /** gradientVerdict(ratio) */
  verdict: 'vanishing' | 'exploding' | 'flowing';
  loss: number;
}

/** Below 0.1 the first step gets under a tenth of the last step's gradient (vanishing); above 10, exploding. */
export function gradientVerdict(ratio: number): 'vanishing' | 'exploding' | 'flowing' {
  if (!(ratio >= 0.1)) return 'vanishing';
  return ratio > 10 ? 'exploding' : 'flowing';
}

/**
 * How much of the final-step loss's gradient reaches each input step: |dL/dx_t| via tf.grad on
 * the input of an untrained model on one adding-problem batch. Leaves no tensors behind.
 */
export function gradientFlow(opts: GradientFlowOptions): GradientFlowResult {
  const cell = checkCell(opts.cell, 'gradientFlow({ cell })');
  const hiddenSize = checkInt(opts.hiddenSize ?? 32, 'gradientFlow({ hiddenSize })', 1, 4096);
  const seqLen = checkInt(opts.seqLen ?? 20, 'gradientFlow({ seqLen })', 2, 10_000);
  const seed = checkInt(opts.seed ?? 0, 'gradientFlow({ seed })', 0, 2 ** 32 - 1);
  const batchSize = checkInt(opts.batchSize ?? 16, 'gradientFlow({ batchSize })', 1, 4096);
  const gain = checkPositive(opts.gain ?? 1, 'gradientFlow({ gain })');
  const clipNorm =
    opts.clipNorm == null ? null : checkPositive(opts.clipNorm, 'gradientFlow({ clipNorm })');

  ensureGradients(); // tf.grad and tf.variableGrads below
  manualSeed(seed);
  const model = new SequenceRegressor({ cell, inputSize: 2, hiddenSize });
  const { x, y } = batchTensors(addingBatch(new DataRng(seed + 1), batchSize, seqLen));
  try {
    model.scaleRecurrentWeights(gain);
    const lossOf = (input: tf.Tensor) => mseLoss(model.forward(input), y);
    const perStep = tf.tidy(() => {
      const g = tf.grad(lossOf)(x);
      return tf.sqrt(tf.sum(tf.square(g), [0, 2]));
    });
    const norms = Array.from(perStep.dataSync());
    perStep.dispose();
    const { value, grads } = tf.variableGrads(() => lossOf(x), model.parameters());
    const loss = value.dataSync()[0];
    const paramGradNorm = tf.tidy(() =>
      tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))),
    );
    const pg = paramGradNorm.dataSync()[0];
    tf.dispose([value, paramGradNorm, ...Object.values(grads)]);
    const clipFactor = clipNorm === null ? 1 : Math.min(1, clipNorm / (pg + 1e-6));
    return {
      cell,
      backend: getBackend(),
      norms,
      paramGradNorm: pg,
      clipFactor,
      clippedNorms: norms.map((n) => n * clipFactor),
      ratio: norms[0] / norms[norms.length - 1],
      verdict: gradientVerdict(norms[0] / norms[norms.length - 1]),
      loss,
    };
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
}
