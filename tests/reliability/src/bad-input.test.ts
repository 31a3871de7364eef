// Issue 8, bad input: every public constructor and forward of ops, cell, rnn and heads fed wrong
// ranks, sizes, states, lengths, ids, options, disposed tensors and modules, bad state dicts.
// Each case: the error has the named class, its message names the argument, what was expected and
// what was given; the failed call leaks no tensor; the same module still gives the same output.
import { ConcatRNNCell, ElmanRNN, GRUCell, LSTMCell, RNNCell } from '@rnnkit/cell';
import { AttentionPooling, pool, SequenceEncoder, SequenceTagger } from '@rnnkit/heads';
import {
  clipGradNorm,
  crossEntropy,
  DisposedError,
  Dropout,
  Embedding,
  getBackend,
  Linear,
  loadSafetensors,
  type Module,
  manualSeed,
  mseLoss,
  SafetensorsError,
  ShapeError,
  StateDictError,
  saveSafetensors,
  setBackend,
  trainChunk,
  trainStep,
} from '@rnnkit/ops';
import { GRU, LSTM, RNN } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  det,
  gone,
  ints,
  PROJECT_BACKEND,
  releaseTracked,
  tensorsIn,
  typed,
  x,
} from './test-utils.js';

type ErrorClass = new (...args: any[]) => Error;
type Out = Array<[tf.Tensor, number[]]>;

/** A public entry point: how to build it and one correct call with the output shapes it must give. */
interface Family<M = any> {
  name: string;
  make: () => M;
  ok: (m: M) => Out;
  /** ok() is random or changes the module: compare shapes only. */
  noCompare?: boolean;
}

interface Case {
  name: string;
  family: Family;
  /** The module the bad call is made on (null: the call builds its own, or is a function). */
  make: () => Module | null;
  call: (m: any) => unknown;
  errorClass: ErrorClass;
  message: RegExp;
  /** The call disposes the module: check a fresh one instead. */
  disposes?: boolean;
  /** Not an error: a defined result (as PyTorch's) of these shapes. */
  result?: number[][];
}

const cases: Case[] = [];

/** A bad call on a module built by the family. */
function on<M>(
  family: Family<M>,
  name: string,
  call: (m: M) => unknown,
  errorClass: ErrorClass,
  message: RegExp,
  extra: Partial<Case> = {},
): void {
  cases.push({
    name: `${family.name}: ${name}`,
    family,
    make: family.make as () => Module | null,
    call,
    errorClass,
    message,
    ...extra,
  });
}

/** An edge case with a defined result (as in PyTorch): no error, outputs of these shapes, no leak. */
function defined<M>(
  family: Family<M>,
  name: string,
  call: (m: M) => unknown,
  result: number[][],
): void {
  cases.push({
    name: `${family.name}: ${name}`,
    family,
    make: family.make as () => Module | null,
    call,
    errorClass: Error,
    message: /^/,
    result,
  });
}

/** A bad constructor or function call (no module to call it on). */
function fn(
  family: Family,
  name: string,
  call: () => unknown,
  errorClass: ErrorClass,
  message: RegExp,
): void {
  cases.push({
    name: `${family.name}: ${name}`,
    family,
    make: () => null,
    call,
    errorClass,
    message,
  });
}

/** Runs ok() in a tidy: checks its shapes and returns its values. */
function runOk(family: Family, m: unknown): number[][] {
  const outs = tf.tidy(() => {
    const pairs = family.ok(m);
    for (const [t, shape] of pairs) expect(t.shape, `${family.name} output shape`).toEqual(shape);
    return pairs.map(([t]) => t);
  });
  const values = outs.map((t) => Array.from(t.dataSync()));
  tf.dispose(tensorsIn(outs));
  return values;
}

const SEED = 1234;

/** Runs f on m, or on a fresh seeded module of the family (disposed afterwards) when m is null. */
function withModule<T>(family: Family, m: Module | null, f: (m: any) => T): T {
  if (m) return f(m);
  manualSeed(SEED);
  const fresh = family.make() as Module | null;
  try {
    return f(fresh);
  } finally {
    fresh?.dispose();
  }
}

// ---------------------------------------------------------------- @rnnkit/ops

const linearF: Family<Linear> = {
  name: 'Linear',
  make: () => new Linear(4, 3),
  ok: (m) => [[m.forward(det([2, 4])), [2, 3]]],
};
fn(
  linearF,
  'inFeatures 0',
  () => new Linear(0, 3),
  RangeError,
  /Linear\(inFeatures\): expected a positive integer, got 0/,
);
fn(
  linearF,
  'outFeatures -2',
  () => new Linear(4, -2),
  RangeError,
  /Linear\(outFeatures\): expected a positive integer, got -2/,
);
fn(
  linearF,
  'inFeatures 2.5',
  () => new Linear(2.5, 3),
  RangeError,
  /Linear\(inFeatures\): expected a positive integer, got 2\.5/,
);
fn(
  linearF,
  'inFeatures "4"',
  () => new Linear('4' as never, 3),
  RangeError,
  /Linear\(inFeatures\): expected a positive integer, got "4"/,
);
fn(
  linearF,
  'inFeatures NaN',
  () => new Linear(Number.NaN, 3),
  RangeError,
  /Linear\(inFeatures\): expected a positive integer, got NaN/,
);
fn(
  linearF,
  'unknown option has_bias',
  () => new Linear(4, 3, { has_bias: false } as never),
  TypeError,
  /Linear: unknown option "has_bias"; expected one of "bias"/,
);
fn(
  linearF,
  'bias "no"',
  () => new Linear(4, 3, { bias: 'no' as never }),
  TypeError,
  /Linear\(\{ bias \}\): expected true or false, got "no"/,
);
on(
  linearF,
  'scalar input',
  (m) => m.forward(x()),
  ShapeError,
  /Linear\.forward\(x\): expected shape \[\.\.\., 4\].*got \[\]/,
);
on(
  linearF,
  'wrong feature size',
  (m) => m.forward(x(2, 5)),
  ShapeError,
  /Linear\.forward\(x\): expected shape \[\.\.\., 4\].*got \[2,5\]/,
);
on(
  linearF,
  'int32 input',
  (m) => m.forward(typed([2, 4], 'int32')),
  TypeError,
  /Linear\.forward\(x\): expected a float32 tensor, got a int32 tensor of shape \[2,4\]/,
);
on(
  linearF,
  'not a tensor',
  (m) => m.forward([[1, 2, 3, 4]] as never),
  TypeError,
  /Linear\.forward\(x\): expected a tf\.Tensor, got an array of length 1/,
);
on(
  linearF,
  'disposed input',
  (m) => m.forward(gone(2, 4)),
  DisposedError,
  /Linear\.forward\(x\): the tensor \(shape \[2,4\]\) was already disposed/,
);
defined(linearF, 'empty batch (as PyTorch: an empty result)', (m) => m.forward(x(0, 4)), [[0, 3]]);
on(
  linearF,
  'disposed module',
  (m) => {
    m.dispose();
    m.forward(x(2, 4));
  },
  DisposedError,
  /Linear: this module was disposed/,
  { disposes: true },
);

const embeddingF: Family<Embedding> = {
  name: 'Embedding',
  make: () => new Embedding(5, 3, { paddingIdx: 0 }),
  ok: (m) => [
    [
      m.forward(
        tf.tensor2d(
          [
            [1, 2, 0],
            [4, 3, 1],
          ],
          [2, 3],
          'int32',
        ),
      ),
      [2, 3, 3],
    ],
  ],
};
fn(
  embeddingF,
  'numEmbeddings 0',
  () => new Embedding(0, 3),
  RangeError,
  /Embedding\(numEmbeddings\): expected a positive integer, got 0/,
);
fn(
  embeddingF,
  'embeddingDim 1.5',
  () => new Embedding(5, 1.5),
  RangeError,
  /Embedding\(embeddingDim\): expected a positive integer, got 1\.5/,
);
fn(
  embeddingF,
  'paddingIdx out of range',
  () => new Embedding(5, 3, { paddingIdx: 5 }),
  RangeError,
  /Embedding\(\{ paddingIdx \}\): expected an integer in \[-5, 4\], got 5/,
);
fn(
  embeddingF,
  'paddingIdx 0.5',
  () => new Embedding(5, 3, { paddingIdx: 0.5 }),
  RangeError,
  /Embedding\(\{ paddingIdx \}\): expected an integer in \[-5, 4\], got 0\.5/,
);
fn(
  embeddingF,
  'unknown option padding_idx',
  () => new Embedding(5, 3, { padding_idx: 0 } as never),
  TypeError,
  /Embedding: unknown option "padding_idx" \(did you mean "paddingIdx"\?\)/,
);
on(
  embeddingF,
  'float32 ids',
  (m) => m.forward(x(2, 3)),
  TypeError,
  /Embedding\.forward\(ids\): expected an int32 tensor of token ids, got a float32 tensor of shape \[2,3\]/,
);
on(
  embeddingF,
  'non-integer ids in an array',
  (m) => m.forward([[1, 2.5]]),
  TypeError,
  /Embedding\.forward\(ids\): expected integer token ids, got 2\.5 at flat index 1/,
);
on(
  embeddingF,
  'negative id',
  (m) => m.forward(ints([[1, -1]])),
  RangeError,
  /Embedding\.forward\(ids\): expected ids in \[0, 4\].*got -1 at flat index 1/,
);
on(
  embeddingF,
  'out-of-vocabulary id',
  (m) =>
    m.forward(
      ints([
        [1, 2],
        [5, 0],
      ]),
    ),
  RangeError,
  /Embedding\.forward\(ids\): expected ids in \[0, 4\].*got 5 at flat index 2/,
);
on(
  embeddingF,
  'out-of-vocabulary id in an array',
  (m) => m.forward([7]),
  RangeError,
  /Embedding\.forward\(ids\): expected ids in \[0, 4\].*got 7 at flat index 0/,
);
on(
  embeddingF,
  'scalar ids',
  (m) => m.forward(ints([3], [])),
  ShapeError,
  /Embedding\.forward\(ids\): expected ids of rank >= 1, got a scalar/,
);
on(
  embeddingF,
  'disposed ids',
  (m) => m.forward(goneInt()),
  DisposedError,
  /Embedding\.forward\(ids\): the tensor.* was already disposed/,
);
on(
  embeddingF,
  'ids a string',
  (m) => m.forward('1 2 3' as never),
  TypeError,
  /Embedding\.forward\(ids\): expected an int32 tensor or an array of token ids, got "1 2 3"/,
);
defined(
  embeddingF,
  'empty batch of ids (as PyTorch: an empty result)',
  (m) => m.forward(typed([0, 3], 'int32')),
  [[0, 3, 3]],
);
on(
  embeddingF,
  'disposed module',
  (m) => {
    m.dispose();
    m.forward([1]);
  },
  DisposedError,
  /Embedding: this module was disposed/,
  { disposes: true },
);

function goneInt(): tf.Tensor {
  const t = tf.tensor1d([1, 2], 'int32');
  t.dispose();
  return t;
}

const dropoutF: Family<Dropout> = {
  name: 'Dropout',
  make: () => new Dropout(0.5),
  ok: (m) => [[m.forward(det([2, 4])), [2, 4]]],
  noCompare: true,
};
fn(
  dropoutF,
  'p = 1.5',
  () => new Dropout(1.5),
  RangeError,
  /Dropout\(p\): expected a probability in \[0, 1\], got 1.5/,
);
fn(
  dropoutF,
  'p = -0.1',
  () => new Dropout(-0.1),
  RangeError,
  /Dropout\(p\): expected a probability in \[0, 1\], got -0\.1/,
);
fn(
  dropoutF,
  'p NaN',
  () => new Dropout(Number.NaN),
  RangeError,
  /Dropout\(p\): expected a probability in \[0, 1\], got NaN/,
);
on(
  dropoutF,
  'not a tensor',
  (m) => m.forward(3 as never),
  TypeError,
  /Dropout\.forward\(x\): expected a tf\.Tensor, got 3/,
);
on(
  dropoutF,
  'disposed input',
  (m) => m.forward(gone(2)),
  DisposedError,
  /Dropout\.forward\(x\): the tensor \(shape \[2\]\) was already disposed/,
);
defined(dropoutF, 'empty tensor', (m) => m.forward(x(0, 4)), [[0, 4]]);
on(
  dropoutF,
  'disposed module',
  (m) => {
    m.dispose();
    m.forward(x(2));
  },
  DisposedError,
  /Dropout: this module was disposed/,
  { disposes: true },
);

const crossEntropyF: Family<null> = {
  name: 'crossEntropy',
  make: () => null,
  ok: () => [[crossEntropy(det([4, 3]), tf.tensor1d([0, 1, 2, 1], 'int32')), []]],
};
fn(
  crossEntropyF,
  'logits rank 1',
  () => crossEntropy(x(3), ints([1])),
  ShapeError,
  /crossEntropy: expected logits \[N, C\] or \[N, T, C\] and targets of the leading shape, got logits \[3\] and targets \[1\]/,
);
fn(
  crossEntropyF,
  'batch mismatch',
  () => crossEntropy(x(4, 3), ints([0, 1, 2])),
  ShapeError,
  /crossEntropy: expected logits .*got logits \[4,3\] and targets \[3\]/,
);
fn(
  crossEntropyF,
  'float targets',
  () => crossEntropy(x(2, 3), x(2)),
  TypeError,
  /crossEntropy\(targets\): expected int32 class ids, got a float32 tensor of shape \[2\]/,
);
fn(
  crossEntropyF,
  'target = numClasses',
  () => crossEntropy(x(2, 3), ints([0, 3])),
  RangeError,
  /crossEntropy\(targets\): expected class ids in \[0, 2\], got 3 at flat index 1/,
);
fn(
  crossEntropyF,
  'negative target',
  () => crossEntropy(x(2, 3), ints([-1, 0])),
  RangeError,
  /crossEntropy\(targets\): expected class ids in \[0, 2\], got -1 at flat index 0/,
);
fn(
  crossEntropyF,
  'int logits',
  () => crossEntropy(typed([2, 3], 'int32'), ints([0, 1])),
  TypeError,
  /crossEntropy\(logits\): expected a float32 tensor, got a int32 tensor of shape \[2,3\]/,
);
fn(
  crossEntropyF,
  'disposed logits',
  () => crossEntropy(gone(2, 3), ints([0, 1])),
  DisposedError,
  /crossEntropy\(logits\): the tensor \(shape \[2,3\]\) was already disposed/,
);
fn(
  crossEntropyF,
  'unknown option ignore_index',
  () => crossEntropy(x(2, 3), ints([0, 1]), { ignore_index: 0 } as never),
  TypeError,
  /crossEntropy: unknown option "ignore_index" \(did you mean "ignoreIndex"\?\)/,
);
fn(
  crossEntropyF,
  'ignoreIndex 0.5',
  () => crossEntropy(x(2, 3), ints([0, 1]), { ignoreIndex: 0.5 }),
  TypeError,
  /crossEntropy\(\{ ignoreIndex \}\): expected an integer, got 0\.5/,
);

const mseF: Family<null> = {
  name: 'mseLoss',
  make: () => null,
  ok: () => [[mseLoss(det([2, 3]), det([2, 3], 1)), []]],
};
fn(
  mseF,
  'shape mismatch',
  () => mseLoss(x(2, 3), x(3, 2)),
  ShapeError,
  /mseLoss: expected pred and target of the same shape, got pred \[2,3\] and target \[3,2\]/,
);
fn(
  mseF,
  'int target',
  () => mseLoss(x(2), typed([2], 'int32')),
  TypeError,
  /mseLoss\(target\): expected a float32 tensor, got a int32 tensor of shape \[2\]/,
);
fn(
  mseF,
  'target not a tensor',
  () => mseLoss(x(2), [1, 2] as never),
  TypeError,
  /mseLoss\(target\): expected a tf\.Tensor, got an array of length 2/,
);
fn(
  mseF,
  'disposed pred',
  () => mseLoss(gone(2), x(2)),
  DisposedError,
  /mseLoss\(pred\): the tensor \(shape \[2\]\) was already disposed/,
);

const clipF: Family<null> = {
  name: 'clipGradNorm',
  make: () => null,
  ok: () => {
    const { grads } = clipGradNorm({ a: det([3]), b: det([2, 2]) }, 0.5);
    return [
      [grads.a, [3]],
      [grads.b, [2, 2]],
    ];
  },
};
fn(
  clipF,
  'maxNorm -1',
  () => clipGradNorm({ a: x(3) }, -1),
  RangeError,
  /clipGradNorm\(maxNorm\): expected a finite number >= 0, got -1/,
);
fn(
  clipF,
  'maxNorm Infinity',
  () => clipGradNorm({ a: x(3) }, Number.POSITIVE_INFINITY),
  RangeError,
  /clipGradNorm\(maxNorm\): expected a finite number >= 0, got Infinity/,
);
fn(
  clipF,
  'maxNorm NaN',
  () => clipGradNorm({ a: x(3) }, Number.NaN),
  RangeError,
  /clipGradNorm\(maxNorm\): expected a finite number >= 0, got NaN/,
);
fn(
  clipF,
  'grads null',
  () => clipGradNorm(null as never, 1),
  TypeError,
  /clipGradNorm\(grads\): expected an object of tensors, got null/,
);
fn(
  clipF,
  'grad not a tensor',
  () => clipGradNorm({ a: [1, 2] } as never, 1),
  TypeError,
  /clipGradNorm\(grads\["a"\]\): expected a tf\.Tensor, got an array of length 2/,
);
fn(
  clipF,
  'disposed grad',
  () => clipGradNorm({ a: x(2), b: gone(3) }, 1),
  DisposedError,
  /clipGradNorm\(grads\["b"\]\): the tensor \(shape \[3\]\) was already disposed/,
);

/** Optimizers made by bad calls (each holds a tensor); disposed with the inputs. */
const optimizers: tf.Optimizer[] = [];
const sgd = () => {
  const o = tf.train.sgd(0.05);
  optimizers.push(o);
  return o;
};
const trainF: Family<Linear> = {
  name: 'trainStep',
  make: () => new Linear(2, 1),
  ok: (m) => {
    const opt = sgd();
    const xs = det([4, 2]);
    const ys = det([4, 1], 2);
    const r = trainStep(m, () => mseLoss(m.forward(xs), ys), opt, { clipNorm: 1 });
    opt.dispose();
    expect(Number.isFinite(r.loss)).toBe(true);
    return [[m.forward(xs), [4, 1]]];
  },
  noCompare: true,
};
on(
  trainF,
  'loss not a function',
  (m) => trainStep(m, 3 as never, sgd()),
  TypeError,
  /trainStep\(loss\): expected a function returning a scalar, got 3/,
);
on(
  trainF,
  'optimizer not an optimizer',
  (m) => trainStep(m, () => tf.sum(m.forward(x(1, 2))) as tf.Scalar, {} as never),
  TypeError,
  /trainStep\(optimizer\): expected a tf\.train optimizer, got an object/,
);
fn(
  trainF,
  'model null',
  () => trainStep(null as never, () => tf.scalar(0), sgd()),
  TypeError,
  /trainStep\(model\): expected a Module, got null/,
);
on(
  trainF,
  'loss returns a vector',
  (m) => trainStep(m, () => m.forward(x(3, 2)) as tf.Scalar, sgd()),
  TypeError,
  /trainStep\(loss\): expected loss\(\) to return a scalar tensor \(float32\), got shape \[3,1\]/,
);
on(
  trainF,
  'loss returns a number',
  (m) => trainStep(m, () => 0.5 as never, sgd()),
  TypeError,
  /trainStep\(loss\): expected loss\(\) to return a scalar tensor \(float32\), got 0\.5/,
);
on(
  trainF,
  'loss throws (target of the wrong shape)',
  (m) => trainStep(m, () => mseLoss(m.forward(x(4, 2)), x(4, 2)), sgd()),
  ShapeError,
  /mseLoss: expected pred and target of the same shape, got pred \[4,1\] and target \[4,2\]/,
);
on(
  trainF,
  'loss does not depend on the parameters',
  (m) => trainStep(m, () => tf.sum(x(3)) as tf.Scalar, sgd()),
  TypeError,
  /trainStep\(loss\): expected loss\(\) to depend on the model's parameters/,
);
on(
  trainF,
  'clipNorm -1',
  (m) => trainStep(m, () => mseLoss(m.forward(x(4, 2)), x(4, 1)), sgd(), { clipNorm: -1 }),
  RangeError,
  /trainStep\(\{ clipNorm \}\): expected a positive finite number, got -1/,
);
on(
  trainF,
  'unknown option clip_norm',
  (m) => trainStep(m, () => tf.scalar(0), sgd(), { clip_norm: 1 } as never),
  TypeError,
  /trainStep: unknown option "clip_norm" \(did you mean "clipNorm"\?\)/,
);
on(
  trainF,
  'disposed model',
  (m) => {
    m.dispose();
    trainStep(m, () => tf.scalar(0), sgd());
  },
  DisposedError,
  /Linear: this module was disposed/,
  { disposes: true },
);

const chunkF: Family<Linear> = {
  name: 'trainChunk',
  make: () => new Linear(2, 2),
  ok: (m) => {
    const opt = sgd();
    const r = trainChunk(
      m,
      det([1, 2]),
      (s) => {
        const y = m.forward(s);
        return { loss: tf.mean(tf.square(y)) as tf.Scalar, state: tf.tanh(y) };
      },
      opt,
    );
    opt.dispose();
    return [[r.state, [1, 2]]];
  },
  noCompare: true,
};
const goodChunk = (m: Linear) => (s: tf.Tensor) => {
  const y = m.forward(s);
  return { loss: tf.mean(tf.square(y)) as tf.Scalar, state: tf.tanh(y) };
};
on(
  chunkF,
  'chunk not a function',
  (m) => trainChunk(m, x(1, 2), null as never, sgd()),
  TypeError,
  /trainChunk\(chunk\): expected a function \(state\) => \{ loss, state \}, got null/,
);
on(
  chunkF,
  'chunk returns a tensor',
  (m) => trainChunk(m, x(1, 2), (s) => m.forward(s) as never, sgd()),
  TypeError,
  /trainChunk\(chunk\): expected chunk to return \{ loss, state \}, got a float32 tensor of shape \[1,2\]/,
);
on(
  chunkF,
  'state not a tensor',
  (m) => trainChunk(m, 'h0' as never, goodChunk(m), sgd()),
  TypeError,
  /trainChunk\(state\): expected a tf\.Tensor or an array of tensors, got "h0"/,
);
on(
  chunkF,
  'state array holding a number',
  (m) => trainChunk(m, [x(1, 2), 0] as never, goodChunk(m), sgd()),
  TypeError,
  /trainChunk\(state\[1\]\): expected a tf\.Tensor, got 0/,
);
on(
  chunkF,
  'chunk returns no state',
  (m) =>
    trainChunk(m, x(1, 2), (s) => ({ loss: tf.sum(m.forward(s)) as tf.Scalar }) as never, sgd()),
  TypeError,
  /trainChunk\(chunk\): the returned state: expected a tf\.Tensor or an array of tensors, got undefined/,
);
on(
  chunkF,
  'chunk returns a vector loss (its new state is freed)',
  (m) =>
    trainChunk(m, x(1, 2), (s) => ({ loss: m.forward(s) as tf.Scalar, state: tf.tanh(s) }), sgd()),
  TypeError,
  /trainStep\(loss\): expected loss\(\) to return a scalar tensor \(float32\), got shape \[1,2\]/,
);
on(
  chunkF,
  'disposed state',
  (m) => trainChunk(m, gone(1, 2), goodChunk(m), sgd()),
  DisposedError,
  /trainChunk\(state\): the tensor \(shape \[1,2\]\) was already disposed/,
);
on(
  chunkF,
  'state of the wrong feature size',
  (m) => trainChunk(m, x(1, 3), goodChunk(m), sgd()),
  ShapeError,
  /Linear\.forward\(x\): expected shape \[\.\.\., 2\].*got \[1,3\]/,
);
on(
  chunkF,
  'unknown option clip_norm',
  (m) => trainChunk(m, x(1, 2), goodChunk(m), sgd(), { clip_norm: 1 } as never),
  TypeError,
  /trainChunk: unknown option "clip_norm" \(did you mean "clipNorm"\?\)/,
);

const safetensorsF: Family<null> = {
  name: 'safetensors',
  make: () => null,
  ok: () => {
    const t = loadSafetensors(saveSafetensors({ w: det([2, 3]), i: tf.tensor1d([1, 2], 'int32') }));
    return [
      [t.w, [2, 3]],
      [t.i, [2]],
    ];
  },
};
fn(
  safetensorsF,
  'loadSafetensors: not bytes',
  () => loadSafetensors('abc' as never),
  TypeError,
  /loadSafetensors\(bytes\): expected a Uint8Array, got "abc"/,
);
fn(
  safetensorsF,
  'loadSafetensors: 4 bytes',
  () => loadSafetensors(new Uint8Array(4)),
  SafetensorsError,
  /expected at least 8 bytes.*got 4/,
);
fn(
  safetensorsF,
  'loadSafetensors: header longer than the file',
  () => loadSafetensors(headerLen(1000n, 10)),
  SafetensorsError,
  /loadSafetensors: header length 1000 is larger than the 10 bytes after the length field/,
);
fn(
  safetensorsF,
  'loadSafetensors: truncated data',
  () => loadSafetensors(saveSafetensors({ w: x(4) }).slice(0, -3)),
  SafetensorsError,
  /"w".*data_offsets|"w".*expected|truncated/,
);
fn(
  safetensorsF,
  'saveSafetensors: not an object',
  () => saveSafetensors(null as never),
  TypeError,
  /saveSafetensors\(tensors\): expected an object of tensors, got null/,
);
fn(
  safetensorsF,
  'saveSafetensors: disposed tensor',
  () => saveSafetensors({ w: gone(2) }),
  TypeError,
  /saveSafetensors\(tensors\): "w" must be a live tf\.Tensor, got a float32 tensor of shape \[2\]/,
);
fn(
  safetensorsF,
  'saveSafetensors: bool tensor',
  () => saveSafetensors({ m: typed([2], 'bool') }),
  TypeError,
  /saveSafetensors\(tensors\): "m" must be float32 or int32, got bool/,
);
fn(
  safetensorsF,
  'saveSafetensors: metadata value not a string',
  () => saveSafetensors({ w: x(2) }, { n: 3 } as never),
  TypeError,
  /saveSafetensors\(metadata\): "n" must be a string, got 3/,
);

function headerLen(n: bigint, total: number): Uint8Array {
  const b = new Uint8Array(total + 8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
}

const backendF: Family<null> = {
  name: 'setBackend',
  make: () => null,
  ok: () => {
    expect(getBackend()).toBe(PROJECT_BACKEND);
    return [[tf.add(det([3]), 1), [3]]];
  },
};
fn(
  backendF,
  'unknown backend',
  () => setBackend('webgl' as never),
  TypeError,
  /setBackend\(name\): expected one of 'cpu', 'wasm', got "webgl"/,
);
fn(
  backendF,
  'unknown option wasm_paths',
  () => setBackend('wasm', { wasm_paths: '/x/' } as never),
  TypeError,
  /setBackend: unknown option "wasm_paths" \(did you mean "wasmPaths"\?\)/,
);
fn(
  backendF,
  'options not an object',
  () => setBackend('cpu', 'fast' as never),
  TypeError,
  /setBackend: expected an options object, got "fast"/,
);

const seedF: Family<null> = {
  name: 'manualSeed',
  make: () => null,
  ok: () => {
    manualSeed(7);
    const l = new Linear(3, 2);
    const w = tf.clone(l.weight);
    l.dispose();
    return [[w, [2, 3]]];
  },
};
fn(
  seedF,
  'negative seed',
  () => manualSeed(-1),
  RangeError,
  /manualSeed\(seed\): expected an integer >= 0, got -1/,
);
fn(
  seedF,
  'non-integer seed',
  () => manualSeed(1.5),
  RangeError,
  /manualSeed\(seed\): expected an integer >= 0, got 1\.5/,
);
fn(
  seedF,
  'string seed',
  () => manualSeed('42' as never),
  RangeError,
  /manualSeed\(seed\): expected an integer >= 0, got "42"/,
);
fn(
  seedF,
  'NaN seed',
  () => manualSeed(Number.NaN),
  RangeError,
  /manualSeed\(seed\): expected an integer >= 0, got NaN/,
);

const sdF: Family<Linear> = {
  name: 'loadStateDict',
  make: () => new Linear(3, 2),
  ok: (m) => [[m.forward(det([1, 3])), [1, 2]]],
};
on(
  sdF,
  'missing key',
  (m) => m.loadStateDict({ weight: x(2, 3) }),
  StateDictError,
  /state_dict for Linear:\n\s+Missing key\(s\) in state_dict: "bias"/,
);
on(
  sdF,
  'unexpected key',
  (m) => m.loadStateDict({ weight: x(2, 3), bias: x(2), extra: x(1) }),
  StateDictError,
  /state_dict for Linear:\n\s+Unexpected key\(s\) in state_dict: "extra"/,
);
on(
  sdF,
  'mis-shaped key (other keys valid: nothing copied)',
  (m) => m.loadStateDict({ weight: x(2, 3), bias: x(3) }),
  StateDictError,
  /size mismatch for bias: copying a param with shape \[3\] from checkpoint, the shape in current model is \[2\]/,
);
on(
  sdF,
  'transposed weight, strict false',
  (m) => m.loadStateDict({ weight: x(3, 2) }, { strict: false }),
  StateDictError,
  /size mismatch for weight: copying a param with shape \[3,2\] from checkpoint, the shape in current model is \[2,3\]/,
);
on(
  sdF,
  'value not a tensor',
  (m) => m.loadStateDict({ weight: [[1, 2, 3]] as never, bias: x(2) }),
  TypeError,
  /Linear\.loadStateDict\(sd\): "weight" must be a live tf\.Tensor, got an array of length 1/,
);
on(
  sdF,
  'disposed value',
  (m) => m.loadStateDict({ weight: gone(2, 3), bias: x(2) }),
  TypeError,
  /Linear\.loadStateDict\(sd\): "weight" must be a live tf\.Tensor, got a float32 tensor of shape \[2,3\]/,
);
on(
  sdF,
  'sd null',
  (m) => m.loadStateDict(null as never),
  TypeError,
  /Linear\.loadStateDict\(sd\): expected an object of tensors, got null/,
);
on(
  sdF,
  'strict "yes"',
  (m) => m.loadStateDict({}, { strict: 'yes' as never }),
  TypeError,
  /Linear\.loadStateDict\(\{ strict \}\): expected true or false, got "yes"/,
);
on(
  sdF,
  'unknown option strict_mode',
  (m) => m.loadStateDict({}, { strict_mode: false } as never),
  TypeError,
  /Linear\.loadStateDict: unknown option "strict_mode"; expected one of "strict"/,
);
on(
  sdF,
  'disposed module',
  (m) => {
    m.dispose();
    m.loadStateDict({ weight: x(2, 3), bias: x(2) });
  },
  DisposedError,
  /Linear: this module was disposed/,
  { disposes: true },
);

const sdRnnF: Family<RNN> = {
  name: 'loadStateDict (RNN bidirectional, 2 layers)',
  make: () => new RNN({ inputSize: 3, hiddenSize: 2, numLayers: 2, bidirectional: true }),
  ok: (m) => [[m.forward(det([4, 1, 3]))[0], [4, 1, 4]]],
};
on(
  sdRnnF,
  'reverse direction missing',
  (m) => m.loadStateDict(forwardOnly(m)),
  StateDictError,
  /Missing key\(s\) in state_dict: "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse", "weight_ih_l1_reverse"/,
);
on(
  sdRnnF,
  'layer 1 input size from a unidirectional model',
  (m) => m.loadStateDict(withKey(m, 'weight_ih_l1', x(2, 2))),
  StateDictError,
  /size mismatch for weight_ih_l1: copying a param with shape \[2,2\] from checkpoint, the shape in current model is \[2,4\]/,
);

const sdLstmF: Family<LSTM> = {
  name: 'loadStateDict (LSTM projSize)',
  make: () => new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 2 }),
  ok: (m) => [[m.forward(det([5, 3]))[0], [5, 2]]],
};
on(
  sdLstmF,
  'checkpoint without projection',
  (m) => m.loadStateDict(withoutKey(m, 'weight_hr_l0')),
  StateDictError,
  /Missing key\(s\) in state_dict: "weight_hr_l0"/,
);
on(
  sdLstmF,
  'weight_hh of the unprojected size',
  (m) => m.loadStateDict(withKey(m, 'weight_hh_l0', x(16, 4))),
  StateDictError,
  /size mismatch for weight_hh_l0: copying a param with shape \[16,4\] from checkpoint, the shape in current model is \[16,2\]/,
);

const sdEncF: Family<SequenceEncoder> = {
  name: 'loadStateDict (SequenceEncoder)',
  make: () =>
    new SequenceEncoder({
      vocabSize: 6,
      embeddingDim: 3,
      cell: 'gru',
      hiddenSize: 2,
      pooling: 'attention',
      outputSize: 2,
    }),
  ok: (m) => [[m.forward(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32')), [1, 2]]],
};
on(
  sdEncF,
  'keys without the module prefix',
  (m) => m.loadStateDict(unprefixed(m)),
  StateDictError,
  /Missing key\(s\) in state_dict: "embedding\.weight", "rnn\.weight_ih_l0".*\n\s+Unexpected key\(s\) in state_dict: "weight"/,
);
on(
  sdEncF,
  'embedding of another vocabulary',
  (m) => m.loadStateDict(withKey(m, 'embedding.weight', x(7, 3))),
  StateDictError,
  /size mismatch for embedding\.weight: copying a param with shape \[7,3\] from checkpoint, the shape in current model is \[6,3\]/,
);

/** The module's own keys with fresh (tracked) values. */
function ownKeys(m: Module): Record<string, tf.Tensor> {
  const sd: Record<string, tf.Tensor> = {};
  for (const [k, v] of m.namedParameters()) sd[k] = x(...v.shape);
  return sd;
}
function forwardOnly(m: Module): Record<string, tf.Tensor> {
  const sd = ownKeys(m);
  for (const k of Object.keys(sd)) if (k.endsWith('_reverse')) delete sd[k];
  return sd;
}
function withKey(m: Module, key: string, t: tf.Tensor): Record<string, tf.Tensor> {
  return { ...ownKeys(m), [key]: t };
}
function withoutKey(m: Module, ...keys: string[]): Record<string, tf.Tensor> {
  const sd = ownKeys(m);
  for (const k of keys) delete sd[k];
  return sd;
}
function unprefixed(m: Module): Record<string, tf.Tensor> {
  const sd: Record<string, tf.Tensor> = {};
  for (const [k, v] of m.namedParameters()) sd[k.slice(k.indexOf('.') + 1)] = x(...v.shape);
  return sd;
}

// ---------------------------------------------------------------- @rnnkit/cell

type CellCtor = typeof RNNCell | typeof GRUCell;
for (const [name, Ctor] of [
  ['RNNCell', RNNCell],
  ['GRUCell', GRUCell],
] as Array<[string, CellCtor]>) {
  const F: Family<RNNCell | GRUCell> = {
    name,
    make: () => new Ctor({ inputSize: 3, hiddenSize: 4 }),
    ok: (m) => [
      [m.forward(det([2, 3]), det([2, 4], 1)), [2, 4]],
      [m.forward(det([3])), [4]],
    ],
  };
  fn(
    F,
    'inputSize 0',
    () => new Ctor({ inputSize: 0, hiddenSize: 4 }),
    RangeError,
    new RegExp(`${name}\\(\\{ inputSize \\}\\): expected a positive integer, got 0`),
  );
  fn(
    F,
    'hiddenSize -3',
    () => new Ctor({ inputSize: 3, hiddenSize: -3 }),
    RangeError,
    new RegExp(`${name}\\(\\{ hiddenSize \\}\\): expected an integer >= 0, got -3`),
  );
  fn(
    F,
    'hiddenSize 2.5',
    () => new Ctor({ inputSize: 3, hiddenSize: 2.5 }),
    RangeError,
    new RegExp(`${name}\\(\\{ hiddenSize \\}\\): expected an integer >= 0, got 2\\.5`),
  );
  fn(
    F,
    'hiddenSize missing',
    () => new Ctor({ inputSize: 3 } as never),
    RangeError,
    new RegExp(`${name}\\(\\{ hiddenSize \\}\\): expected an integer >= 0, got undefined`),
  );
  fn(
    F,
    'no options',
    () => new Ctor(undefined as never),
    RangeError,
    new RegExp(`${name}\\(\\{ inputSize \\}\\): expected a positive integer, got undefined`),
  );
  fn(
    F,
    'unknown option input_size',
    () => new Ctor({ input_size: 3, hiddenSize: 4 } as never),
    TypeError,
    new RegExp(`${name}: unknown option "input_size" \\(did you mean "inputSize"\\?\\)`),
  );
  fn(
    F,
    'bias 1',
    () => new Ctor({ inputSize: 3, hiddenSize: 4, bias: 1 as never }),
    TypeError,
    new RegExp(`${name}\\(\\{ bias \\}\\): expected true or false, got 1`),
  );
  on(
    F,
    'x of rank 3',
    (m) => m.forward(x(2, 1, 3)),
    ShapeError,
    new RegExp(
      `${name}\\.forward\\(x\\): expected rank 1 or 2 \\(\\[B, I\\] or unbatched \\[I\\]\\), got rank 3 with shape \\[2,1,3\\]`,
    ),
  );
  on(
    F,
    'scalar x',
    (m) => m.forward(x()),
    ShapeError,
    new RegExp(`${name}\\.forward\\(x\\): expected rank 1 or 2 .*got rank 0 with shape \\[\\]`),
  );
  on(
    F,
    'wrong feature size',
    (m) => m.forward(x(2, 5)),
    ShapeError,
    new RegExp(`${name}\\.forward\\(x\\): expected last dim inputSize = 3, got shape \\[2,5\\]`),
  );
  on(
    F,
    'batch mismatch between x and h',
    (m) => m.forward(x(2, 3), x(3, 4)),
    ShapeError,
    new RegExp(`${name}\\.forward\\(h\\): expected shape \\[2,4\\], got \\[3,4\\]`),
  );
  on(
    F,
    'h of the wrong hidden size',
    (m) => m.forward(x(2, 3), x(2, 5)),
    ShapeError,
    new RegExp(`${name}\\.forward\\(h\\): expected shape \\[2,4\\], got \\[2,5\\]`),
  );
  on(
    F,
    'batched h for unbatched x',
    (m) => m.forward(x(3), x(1, 4)),
    ShapeError,
    new RegExp(`${name}\\.forward\\(h\\): expected shape \\[4\\], got \\[1,4\\]`),
  );
  defined(F, 'empty batch (as PyTorch: an empty result)', (m) => m.forward(x(0, 3), x(0, 4)), [
    [0, 4],
  ]);
  on(
    F,
    'int32 x',
    (m) => m.forward(typed([2, 3], 'int32')),
    TypeError,
    new RegExp(
      `${name}\\.forward\\(x\\): expected a float32 tensor, got a int32 tensor of shape \\[2,3\\]`,
    ),
  );
  on(
    F,
    'disposed x',
    (m) => m.forward(gone(2, 3)),
    DisposedError,
    new RegExp(`${name}\\.forward\\(x\\): the tensor \\(shape \\[2,3\\]\\) was already disposed`),
  );
  on(
    F,
    'disposed h',
    (m) => m.forward(x(2, 3), gone(2, 4)),
    DisposedError,
    new RegExp(`${name}\\.forward\\(h\\): the tensor \\(shape \\[2,4\\]\\) was already disposed`),
  );
  on(
    F,
    'h not a tensor',
    (m) => m.forward(x(2, 3), [0, 0, 0, 0] as never),
    TypeError,
    new RegExp(`${name}\\.forward\\(h\\): expected a tf\\.Tensor, got an array of length 4`),
  );
  on(
    F,
    'disposed module',
    (m) => {
      m.dispose();
      m.forward(x(2, 3));
    },
    DisposedError,
    new RegExp(`${name}: this module was disposed`),
    { disposes: true },
  );
  on(
    F,
    'loadStateDict without biases',
    (m) => m.loadStateDict(withoutKey(m, 'bias_ih', 'bias_hh')),
    StateDictError,
    /Missing key\(s\) in state_dict: "bias_ih", "bias_hh"/,
  );
}
fn(
  {
    name: 'RNNCell',
    make: () => new RNNCell({ inputSize: 3, hiddenSize: 4 }),
    ok: (m: RNNCell) => [[m.forward(det([3])), [4]]],
  },
  'nonlinearity sigmoid',
  () => new RNNCell({ inputSize: 3, hiddenSize: 4, nonlinearity: 'sigmoid' as never }),
  TypeError,
  /RNNCell\(\{ nonlinearity \}\): expected one of 'tanh', 'relu', got "sigmoid"/,
);

const lstmCellF: Family<LSTMCell> = {
  name: 'LSTMCell',
  make: () => new LSTMCell({ inputSize: 3, hiddenSize: 4 }),
  ok: (m) => {
    const [h, c] = m.forward(det([2, 3]), [det([2, 4], 1), det([2, 4], 2)]);
    return [
      [h, [2, 4]],
      [c, [2, 4]],
    ];
  },
};
fn(
  lstmCellF,
  'unknown option hidden_size',
  () => new LSTMCell({ inputSize: 3, hidden_size: 4 } as never),
  TypeError,
  /LSTMCell: unknown option "hidden_size" \(did you mean "hiddenSize"\?\)/,
);
fn(
  lstmCellF,
  'inputSize "3"',
  () => new LSTMCell({ inputSize: '3' as never, hiddenSize: 4 }),
  RangeError,
  /LSTMCell\(\{ inputSize \}\): expected a positive integer, got "3"/,
);
on(
  lstmCellF,
  'state a single tensor',
  (m) => m.forward(x(2, 3), x(2, 4) as never),
  TypeError,
  /LSTMCell\.forward\(state\): expected \[h, c\] \(two tensors\), got a float32 tensor of shape \[2,4\]/,
);
on(
  lstmCellF,
  'state of one tensor',
  (m) => m.forward(x(2, 3), [x(2, 4)] as never),
  TypeError,
  /LSTMCell\.forward\(state\): expected \[h, c\] \(two tensors\), got \[a float32 tensor of shape \[2,4\]\]/,
);
on(
  lstmCellF,
  'c of the wrong batch',
  (m) => m.forward(x(2, 3), [x(2, 4), x(1, 4)]),
  ShapeError,
  /LSTMCell\.forward\(state\[1\]\): expected shape \[2,4\], got \[1,4\]/,
);
on(
  lstmCellF,
  'h of the wrong size',
  (m) => m.forward(x(2, 3), [x(2, 3), x(2, 4)]),
  ShapeError,
  /LSTMCell\.forward\(state\[0\]\): expected shape \[2,4\], got \[2,3\]/,
);
on(
  lstmCellF,
  'wrong feature size',
  (m) => m.forward(x(2, 4)),
  ShapeError,
  /LSTMCell\.forward\(x\): expected last dim inputSize = 3, got shape \[2,4\]/,
);
on(
  lstmCellF,
  'disposed c',
  (m) => m.forward(x(2, 3), [x(2, 4), gone(2, 4)]),
  DisposedError,
  /LSTMCell\.forward\(state\[1\]\): the tensor \(shape \[2,4\]\) was already disposed/,
);
defined(lstmCellF, 'empty batch (as PyTorch: an empty result)', (m) => m.forward(x(0, 3)), [
  [0, 4],
  [0, 4],
]);
on(
  lstmCellF,
  'disposed module',
  (m) => {
    m.dispose();
    m.forward(x(2, 3));
  },
  DisposedError,
  /LSTMCell: this module was disposed/,
  { disposes: true },
);

const concatF: Family<ConcatRNNCell> = {
  name: 'ConcatRNNCell',
  make: () => new ConcatRNNCell({ inputSize: 3, hiddenSize: 4 }),
  ok: (m) => [[m.forward(det([2, 3]), det([2, 4], 1)), [2, 4]]],
};
fn(
  concatF,
  'activation sigmoid',
  () => new ConcatRNNCell({ inputSize: 3, hiddenSize: 4, activation: 'sigmoid' as never }),
  TypeError,
  /ConcatRNNCell\(\{ activation \}\): expected one of 'relu', 'tanh', got "sigmoid"/,
);
fn(
  concatF,
  'hiddenSize 0',
  () => new ConcatRNNCell({ inputSize: 3, hiddenSize: 0 }),
  RangeError,
  /ConcatRNNCell\(\{ hiddenSize \}\): expected a positive integer, got 0/,
);
fn(
  concatF,
  'unknown option hidden',
  () => new ConcatRNNCell({ inputSize: 3, hiddenSize: 4, hidden: 4 } as never),
  TypeError,
  /ConcatRNNCell: unknown option "hidden"; expected one of "inputSize", "hiddenSize", "activation"/,
);
on(
  concatF,
  'unbatched x',
  (m) => m.forward(x(3)),
  ShapeError,
  /ConcatRNNCell\.forward\(x\): expected rank 2 \(\[B, I\]\), got rank 1 with shape \[3\]/,
);
on(
  concatF,
  'wrong feature size',
  (m) => m.forward(x(2, 2)),
  ShapeError,
  /ConcatRNNCell\.forward\(x\): expected shape \[\*,3\], got \[2,2\]/,
);
on(
  concatF,
  'batch mismatch with h',
  (m) => m.forward(x(2, 3), x(1, 4)),
  ShapeError,
  /ConcatRNNCell\.forward\(h\): expected shape \[2,4\], got \[1,4\]/,
);
defined(concatF, 'empty batch (an empty result)', (m) => m.forward(x(0, 3)), [[0, 4]]);
on(
  concatF,
  'disposed h',
  (m) => m.forward(x(2, 3), gone(2, 4)),
  DisposedError,
  /ConcatRNNCell\.forward\(h\): the tensor \(shape \[2,4\]\) was already disposed/,
);

const elmanF: Family<ElmanRNN> = {
  name: 'ElmanRNN',
  make: () => new ElmanRNN({ inputDim: 3, hiddenSize: 4, outputDim: 2 }),
  ok: (m) => {
    const o = m.forward(det([2, 5, 3]), det([2, 4], 1));
    return [
      [o.hiddenStates, [2, 5, 4]],
      [o.h, [2, 4]],
      [o.predictions, [2, 5, 2]],
    ];
  },
};
fn(
  elmanF,
  'outputDim 0',
  () => new ElmanRNN({ inputDim: 3, hiddenSize: 4, outputDim: 0 }),
  RangeError,
  /ElmanRNN\(\{ outputDim \}\): expected a positive integer, got 0/,
);
fn(
  elmanF,
  'unknown option input_dim',
  () => new ElmanRNN({ input_dim: 3, hiddenSize: 4, outputDim: 2 } as never),
  TypeError,
  /ElmanRNN: unknown option "input_dim" \(did you mean "inputDim"\?\)/,
);
fn(
  elmanF,
  'activation gelu',
  () => new ElmanRNN({ inputDim: 3, hiddenSize: 4, outputDim: 2, activation: 'gelu' as never }),
  TypeError,
  /ElmanRNN\(\{ activation \}\): expected one of 'relu', 'tanh', got "gelu"/,
);
on(
  elmanF,
  'xt of rank 2',
  (m) => m.forward(x(5, 3)),
  ShapeError,
  /ElmanRNN\.forward\(xt\): expected rank 3 \(\[B, T, E\]\), got rank 2 with shape \[5,3\]/,
);
on(
  elmanF,
  'wrong feature size',
  (m) => m.forward(x(2, 5, 4)),
  ShapeError,
  /ElmanRNN\.forward\(xt\): expected \[B, T, 3\] \(inputDim = 3\), got \[2,5,4\]/,
);
on(
  elmanF,
  'zero-length sequence',
  (m) => m.forward(x(2, 0, 3)),
  ShapeError,
  /ElmanRNN\.forward\(xt\): expected at least one time step, got \[2,0,3\]/,
);
defined(elmanF, 'empty batch (as PyTorch: an empty result)', (m) => m.forward(x(0, 5, 3)), [
  [0, 5, 4],
  [0, 4],
  [0, 5, 2],
]);
on(
  elmanF,
  'h0 batch mismatch',
  (m) => m.forward(x(2, 5, 3), x(3, 4)),
  ShapeError,
  /ElmanRNN\.forward\(h0\): expected shape \[2,4\], got \[3,4\]/,
);
on(
  elmanF,
  'h0 of rank 3 (PyTorch-style [1,B,H])',
  (m) => m.forward(x(2, 5, 3), x(1, 2, 4)),
  ShapeError,
  /ElmanRNN\.forward\(h0\): expected shape \[2,4\], got \[1,2,4\]/,
);
on(
  elmanF,
  'int xt',
  (m) => m.forward(typed([2, 5, 3], 'int32')),
  TypeError,
  /ElmanRNN\.forward\(xt\): expected a float32 tensor, got a int32 tensor of shape \[2,5,3\]/,
);
on(
  elmanF,
  'disposed xt',
  (m) => m.forward(gone(2, 5, 3)),
  DisposedError,
  /ElmanRNN\.forward\(xt\): the tensor \(shape \[2,5,3\]\) was already disposed/,
);
on(
  elmanF,
  'disposed module',
  (m) => {
    m.dispose();
    m.forward(x(2, 5, 3));
  },
  DisposedError,
  /ElmanRNN: this module was disposed/,
  { disposes: true },
);
on(
  elmanF,
  'loadStateDict with the tutorial keys renamed',
  (m) => m.loadStateDict(unprefixed(m)),
  StateDictError,
  /Missing key\(s\) in state_dict: "linear1\.weight", "linear1\.bias", "linear2\.weight", "linear2\.bias"/,
);

// ---------------------------------------------------------------- @rnnkit/rnn

type RnnCtor = typeof RNN | typeof GRU;
for (const [name, Ctor] of [
  ['RNN', RNN],
  ['GRU', GRU],
] as Array<[string, RnnCtor]>) {
  const N = name;
  const re = (s: string) => new RegExp(s.replaceAll('NAME', N));
  // 2 layers x 2 directions: h0 [4, B, 4]
  const F: Family<RNN | GRU> = {
    name,
    make: () => new Ctor({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true }),
    ok: (m) => {
      const [out, hN] = m.forward(det([5, 2, 3]), det([4, 2, 4], 1), { lengths: [5, 3] });
      const [out1, h1] = m.forward(det([5, 3]));
      return [
        [out, [5, 2, 8]],
        [hN, [4, 2, 4]],
        [out1, [5, 8]],
        [h1, [4, 4]],
      ];
    },
  };
  const bf: Family<RNN | GRU> = {
    name: `${name} (batchFirst)`,
    make: () => new Ctor({ inputSize: 3, hiddenSize: 4, batchFirst: true }),
    ok: (m) => {
      const [out, hN] = m.forward(det([2, 5, 3]), undefined, { lengths: [2, 5] });
      return [
        [out, [2, 5, 4]],
        [hN, [1, 2, 4]],
      ];
    },
  };
  fn(
    F,
    'unknown option batch_first',
    () => new Ctor({ inputSize: 3, hiddenSize: 4, batch_first: true } as never),
    TypeError,
    re(
      'NAME: unknown option "batch_first" \\(did you mean "batchFirst"\\?\\); expected one of "inputSize", "hiddenSize", "numLayers"',
    ),
  );
  fn(
    F,
    'unknown option num_layers',
    () => new Ctor({ inputSize: 3, hiddenSize: 4, num_layers: 2 } as never),
    TypeError,
    re('NAME: unknown option "num_layers" \\(did you mean "numLayers"\\?\\)'),
  );
  fn(
    F,
    'unknown option hidden (no suggestion)',
    () => new Ctor({ inputSize: 3, hidden: 4 } as never),
    TypeError,
    re('NAME: unknown option "hidden"; expected one of "inputSize", "hiddenSize"'),
  );
  fn(
    F,
    'no options',
    () => new Ctor(undefined as never),
    TypeError,
    re('NAME: expected an options object \\{ inputSize, hiddenSize, ... \\}, got undefined'),
  );
  fn(
    F,
    'options a number',
    () => new Ctor(3 as never),
    TypeError,
    re('NAME: expected an options object, got 3'),
  );
  fn(
    F,
    'inputSize 0',
    () => new Ctor({ inputSize: 0, hiddenSize: 4 }),
    RangeError,
    re('NAME\\(\\{ inputSize \\}\\): expected a positive integer, got 0'),
  );
  fn(
    F,
    'hiddenSize -1',
    () => new Ctor({ inputSize: 3, hiddenSize: -1 }),
    RangeError,
    re('NAME\\(\\{ hiddenSize \\}\\): expected a positive integer, got -1'),
  );
  fn(
    F,
    'numLayers 0',
    () => new Ctor({ inputSize: 3, hiddenSize: 4, numLayers: 0 }),
    RangeError,
    re('NAME\\(\\{ numLayers \\}\\): expected a positive integer, got 0'),
  );
  fn(
    F,
    'numLayers 1.5',
    () => new Ctor({ inputSize: 3, hiddenSize: 4, numLayers: 1.5 }),
    RangeError,
    re('NAME\\(\\{ numLayers \\}\\): expected a positive integer, got 1\\.5'),
  );
  fn(
    F,
    'dropout 1.5',
    () => new Ctor({ inputSize: 3, hiddenSize: 4, dropout: 1.5 }),
    RangeError,
    re('NAME\\(\\{ dropout \\}\\): expected a probability in \\[0, 1\\], got 1\\.5'),
  );
  fn(
    F,
    'bidirectional "true"',
    () => new Ctor({ inputSize: 3, hiddenSize: 4, bidirectional: 'true' as never }),
    TypeError,
    re('NAME\\(\\{ bidirectional \\}\\): expected true or false, got "true"'),
  );
  fn(
    F,
    'batchFirst 1',
    () => new Ctor({ inputSize: 3, hiddenSize: 4, batchFirst: 1 as never }),
    TypeError,
    re('NAME\\(\\{ batchFirst \\}\\): expected true or false, got 1'),
  );
  on(
    F,
    'input of rank 1',
    (m) => m.forward(x(3)),
    ShapeError,
    re(
      'NAME\\.forward\\(input\\): expected rank 2 or 3 \\(\\[T, B, I\\] or unbatched \\[T, I\\]\\), got rank 1 with shape \\[3\\]',
    ),
  );
  on(
    F,
    'input of rank 4',
    (m) => m.forward(x(5, 2, 1, 3)),
    ShapeError,
    re('NAME\\.forward\\(input\\): expected rank 2 or 3 .*got rank 4 with shape \\[5,2,1,3\\]'),
  );
  on(
    F,
    'wrong feature size',
    (m) => m.forward(x(5, 2, 4)),
    ShapeError,
    re('NAME\\.forward\\(input\\): expected last dim inputSize = 3, got shape \\[5,2,4\\]'),
  );
  on(
    F,
    'h0 for 1 layer, 1 direction',
    (m) => m.forward(x(5, 2, 3), x(1, 2, 4)),
    ShapeError,
    re('NAME\\.forward\\(h0\\): expected shape \\[4,2,4\\].*got \\[1,2,4\\]'),
  );
  on(
    F,
    'h0 for 2 layers, unidirectional',
    (m) => m.forward(x(5, 2, 3), x(2, 2, 4)),
    ShapeError,
    re('NAME\\.forward\\(h0\\): expected shape \\[4,2,4\\].*got \\[2,2,4\\]'),
  );
  on(
    F,
    'h0 batch mismatch',
    (m) => m.forward(x(5, 2, 3), x(4, 3, 4)),
    ShapeError,
    re('NAME\\.forward\\(h0\\): expected shape \\[4,2,4\\].*got \\[4,3,4\\]'),
  );
  on(
    F,
    'h0 of the wrong hidden size',
    (m) => m.forward(x(5, 2, 3), x(4, 2, 5)),
    ShapeError,
    re('NAME\\.forward\\(h0\\): expected shape \\[4,2,4\\].*got \\[4,2,5\\]'),
  );
  on(
    F,
    'unbatched h0 for batched input',
    (m) => m.forward(x(5, 2, 3), x(4, 4)),
    ShapeError,
    re('NAME\\.forward\\(h0\\): expected shape \\[4,2,4\\].*got \\[4,4\\]'),
  );
  on(
    F,
    'batched h0 for unbatched input',
    (m) => m.forward(x(5, 3), x(4, 1, 4)),
    ShapeError,
    re('NAME\\.forward\\(h0\\): expected shape \\[4,4\\].*got \\[4,1,4\\]'),
  );
  on(
    F,
    'h0 not a tensor',
    (m) => m.forward(x(5, 2, 3), 0 as never),
    TypeError,
    re('NAME\\.forward\\(h0\\): expected a tf\\.Tensor, got 0'),
  );
  on(
    F,
    'lengths: wrong count',
    (m) => m.forward(x(5, 2, 3), undefined, { lengths: [5, 4, 3] }),
    ShapeError,
    re('NAME\\.forward\\(opts\\.lengths\\): expected 2 lengths \\(one per sequence\\), got 3'),
  );
  on(
    F,
    'lengths: zero',
    (m) => m.forward(x(5, 2, 3), undefined, { lengths: [5, 0] }),
    RangeError,
    re(
      'NAME\\.forward\\(opts\\.lengths\\): expected integers in \\[1, 5\\] \\(the sequence length\\), got 0 at index 1',
    ),
  );
  on(
    F,
    'lengths: negative',
    (m) => m.forward(x(5, 2, 3), undefined, { lengths: [-2, 5] }),
    RangeError,
    re('NAME\\.forward\\(opts\\.lengths\\): expected integers in \\[1, 5\\].*got -2 at index 0'),
  );
  on(
    F,
    'lengths: non-integer',
    (m) => m.forward(x(5, 2, 3), undefined, { lengths: [2.5, 5] }),
    RangeError,
    re('NAME\\.forward\\(opts\\.lengths\\): expected integers in \\[1, 5\\].*got 2\\.5 at index 0'),
  );
  on(
    F,
    'lengths: NaN',
    (m) => m.forward(x(5, 2, 3), undefined, { lengths: [Number.NaN, 5] }),
    RangeError,
    re('NAME\\.forward\\(opts\\.lengths\\): expected integers in \\[1, 5\\].*got NaN at index 0'),
  );
  on(
    F,
    'lengths: longer than the sequence',
    (m) => m.forward(x(5, 2, 3), undefined, { lengths: [6, 5] }),
    RangeError,
    re('NAME\\.forward\\(opts\\.lengths\\): expected integers in \\[1, 5\\].*got 6 at index 0'),
  );
  on(
    F,
    'lengths: a string',
    (m) => m.forward(x(5, 2, 3), undefined, { lengths: '53' as never }),
    TypeError,
    re('NAME\\.forward\\(opts\\.lengths\\): expected an array of 2 lengths, got "53"'),
  );
  on(
    F,
    'lengths: disposed tensor',
    (m) => m.forward(x(5, 2, 3), undefined, { lengths: goneInt() as never }),
    DisposedError,
    re('NAME\\.forward\\(opts\\.lengths\\): the tensor.* was already disposed'),
  );
  on(
    F,
    'lengths with unbatched input',
    (m) => m.forward(x(5, 3), undefined, { lengths: [5] }),
    TypeError,
    re(
      'NAME\\.forward\\(opts\\.lengths\\): expected batched input when lengths are given, got unbatched input of shape \\[5,3\\]',
    ),
  );
  on(
    F,
    'unknown forward option length',
    (m) => m.forward(x(5, 2, 3), undefined, { length: [5, 5] } as never),
    TypeError,
    re('NAME\\.forward: unknown option "length"; expected one of "lengths"'),
  );
  on(
    F,
    'zero-length sequence (as PyTorch: error)',
    (m) => m.forward(x(0, 2, 3)),
    ShapeError,
    re('NAME\\.forward\\(input\\): expected at least one time step, got shape \\[0,2,3\\]'),
  );
  on(
    F,
    'unbatched zero-length sequence',
    (m) => m.forward(x(0, 3)),
    ShapeError,
    re('NAME\\.forward\\(input\\): expected at least one time step, got shape \\[0,3\\]'),
  );
  defined(F, 'empty batch (as PyTorch: empty outputs and states)', (m) => m.forward(x(5, 0, 3)), [
    [5, 0, 8],
    [4, 0, 4],
  ]);
  on(
    F,
    'int32 input',
    (m) => m.forward(typed([5, 2, 3], 'int32')),
    TypeError,
    re(
      'NAME\\.forward\\(input\\): expected a float32 tensor, got a int32 tensor of shape \\[5,2,3\\]',
    ),
  );
  on(
    F,
    'disposed input',
    (m) => m.forward(gone(5, 2, 3)),
    DisposedError,
    re('NAME\\.forward\\(input\\): the tensor \\(shape \\[5,2,3\\]\\) was already disposed'),
  );
  on(
    F,
    'disposed h0',
    (m) => m.forward(x(5, 2, 3), gone(4, 2, 4)),
    DisposedError,
    re('NAME\\.forward\\(h0\\): the tensor \\(shape \\[4,2,4\\]\\) was already disposed'),
  );
  on(
    F,
    'disposed module',
    (m) => {
      m.dispose();
      m.forward(x(5, 2, 3));
    },
    DisposedError,
    re('NAME: this module was disposed'),
    { disposes: true },
  );
  on(
    bf,
    'time-major input to a batchFirst layer (batch mismatch with h0)',
    (m) => m.forward(x(5, 2, 3), x(1, 2, 4)),
    ShapeError,
    re('NAME\\.forward\\(h0\\): expected shape \\[1,5,4\\].*got \\[1,2,4\\]'),
  );
  on(
    bf,
    'lengths: longer than T (batchFirst)',
    (m) => m.forward(x(2, 5, 3), undefined, { lengths: [2, 6] }),
    RangeError,
    re('NAME\\.forward\\(opts\\.lengths\\): expected integers in \\[1, 5\\].*got 6 at index 1'),
  );
  on(
    bf,
    'lengths: count is T, not B (batchFirst)',
    (m) => m.forward(x(2, 5, 3), undefined, { lengths: [5, 5, 5, 5, 5] }),
    ShapeError,
    re('NAME\\.forward\\(opts\\.lengths\\): expected 2 lengths \\(one per sequence\\), got 5'),
  );
  on(
    bf,
    'wrong rank (batchFirst layout in the message)',
    (m) => m.forward(x(3)),
    ShapeError,
    re(
      'NAME\\.forward\\(input\\): expected rank 2 or 3 \\(\\[B, T, I\\] \\(batchFirst\\) or unbatched \\[T, I\\]\\), got rank 1',
    ),
  );
}
fn(
  {
    name: 'RNN',
    make: () => new RNN({ inputSize: 2, hiddenSize: 3 }),
    ok: (m: RNN) => [[m.forward(det([4, 2]))[0], [4, 3]]],
  },
  'nonlinearity gelu',
  () => new RNN({ inputSize: 2, hiddenSize: 3, nonlinearity: 'gelu' as never }),
  TypeError,
  /RNN\(\{ nonlinearity \}\): expected one of 'tanh', 'relu', got "gelu"/,
);

const lstmF: Family<LSTM> = {
  name: 'LSTM',
  make: () =>
    new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, projSize: 2 }),
  ok: (m) => {
    const [out, [hN, cN]] = m.forward(det([5, 2, 3]), [det([4, 2, 2], 1), det([4, 2, 4], 2)], {
      lengths: [1, 5],
    });
    return [
      [out, [5, 2, 4]],
      [hN, [4, 2, 2]],
      [cN, [4, 2, 4]],
    ];
  },
};
fn(
  lstmF,
  'projSize = hiddenSize',
  () => new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 4 }),
  RangeError,
  /LSTM\(\{ projSize \}\): expected projSize < hiddenSize \(4\), got 4/,
);
fn(
  lstmF,
  'projSize -1',
  () => new LSTM({ inputSize: 3, hiddenSize: 4, projSize: -1 }),
  RangeError,
  /LSTM\(\{ projSize \}\): expected an integer >= 0, got -1/,
);
fn(
  lstmF,
  'unknown option proj_size',
  () => new LSTM({ inputSize: 3, hiddenSize: 4, proj_size: 2 } as never),
  TypeError,
  /LSTM: unknown option "proj_size" \(did you mean "projSize"\?\)/,
);
fn(
  lstmF,
  'unknown option batch_first',
  () => new LSTM({ inputSize: 3, hiddenSize: 4, batch_first: true } as never),
  TypeError,
  /LSTM: unknown option "batch_first" \(did you mean "batchFirst"\?\)/,
);
fn(
  lstmF,
  'nonlinearity is not an LSTM option',
  () => new LSTM({ inputSize: 3, hiddenSize: 4, nonlinearity: 'relu' } as never),
  TypeError,
  /LSTM: unknown option "nonlinearity"; expected one of/,
);
on(
  lstmF,
  'state a single tensor',
  (m) => m.forward(x(5, 2, 3), x(4, 2, 2) as never),
  TypeError,
  /LSTM\.forward\(state\): expected \[h0, c0\] \(two tensors\), got a float32 tensor of shape \[4,2,2\]/,
);
on(
  lstmF,
  'state [h0, undefined]',
  (m) => m.forward(x(5, 2, 3), [x(4, 2, 2), undefined] as never),
  TypeError,
  /LSTM\.forward\(state\): expected \[h0, c0\] \(two tensors\), got \[a float32 tensor of shape \[4,2,2\], undefined\]/,
);
on(
  lstmF,
  'h0 of hiddenSize instead of projSize',
  (m) => m.forward(x(5, 2, 3), [x(4, 2, 4), x(4, 2, 4)]),
  ShapeError,
  /LSTM\.forward\(state\[0\] \(h0\)\): expected shape \[4,2,2\], got \[4,2,4\]/,
);
on(
  lstmF,
  'c0 of projSize instead of hiddenSize',
  (m) => m.forward(x(5, 2, 3), [x(4, 2, 2), x(4, 2, 2)]),
  ShapeError,
  /LSTM\.forward\(state\[1\] \(c0\)\): expected shape \[4,2,4\], got \[4,2,2\]/,
);
on(
  lstmF,
  'state for one direction',
  (m) => m.forward(x(5, 2, 3), [x(2, 2, 2), x(2, 2, 4)]),
  ShapeError,
  /LSTM\.forward\(state\[0\] \(h0\)\): expected shape \[4,2,2\], got \[2,2,2\]/,
);
on(
  lstmF,
  'c0 batch mismatch',
  (m) => m.forward(x(5, 2, 3), [x(4, 2, 2), x(4, 1, 4)]),
  ShapeError,
  /LSTM\.forward\(state\[1\] \(c0\)\): expected shape \[4,2,4\], got \[4,1,4\]/,
);
on(
  lstmF,
  'disposed c0',
  (m) => m.forward(x(5, 2, 3), [x(4, 2, 2), gone(4, 2, 4)]),
  DisposedError,
  /LSTM\.forward\(state\[1\] \(c0\)\): the tensor \(shape \[4,2,4\]\) was already disposed/,
);
on(
  lstmF,
  'wrong feature size',
  (m) => m.forward(x(5, 2, 2)),
  ShapeError,
  /LSTM\.forward\(input\): expected last dim inputSize = 3, got shape \[5,2,2\]/,
);
on(
  lstmF,
  'lengths: zero',
  (m) => m.forward(x(5, 2, 3), undefined, { lengths: [0, 5] }),
  RangeError,
  /LSTM\.forward\(opts\.lengths\): expected integers in \[1, 5\].*got 0 at index 0/,
);
on(
  lstmF,
  'zero-length sequence',
  (m) => m.forward(x(0, 2, 3)),
  ShapeError,
  /LSTM\.forward\(input\): expected at least one time step, got shape \[0,2,3\]/,
);
defined(lstmF, 'empty batch (as PyTorch: empty outputs and states)', (m) => m.forward(x(5, 0, 3)), [
  [5, 0, 4],
  [4, 0, 2],
  [4, 0, 4],
]);
on(
  lstmF,
  'disposed module',
  (m) => {
    m.dispose();
    m.forward(x(5, 2, 3));
  },
  DisposedError,
  /LSTM: this module was disposed/,
  { disposes: true },
);

// ---------------------------------------------------------------- @rnnkit/heads

const poolF: Family<null> = {
  name: 'pool',
  make: () => null,
  ok: () => [
    [pool(det([2, 3, 4]), 'mean', { lengths: [3, 1] }), [2, 4]],
    [pool(det([2, 3, 4]), 'flatten'), [2, 12]],
    [pool(det([2, 3, 4]), 'none', { lengths: [1, 2] }), [2, 3, 4]],
  ],
};
fn(
  poolF,
  'x of rank 2',
  () => pool(x(3, 4), 'mean'),
  ShapeError,
  /pool\(x\): expected rank 3 \(\[B, T, F\]\), got rank 2 with shape \[3,4\]/,
);
fn(
  poolF,
  'unknown mode avg',
  () => pool(x(2, 3, 4), 'avg' as never),
  TypeError,
  /pool\(mode\): expected one of 'mean', 'max', .*got "avg"/,
);
fn(
  poolF,
  'int x',
  () => pool(typed([2, 3, 4], 'int32'), 'sum'),
  TypeError,
  /pool\(x\): expected a float32 tensor, got a int32 tensor of shape \[2,3,4\]/,
);
fn(
  poolF,
  'zero-length sequence',
  () => pool(x(2, 0, 4), 'mean'),
  ShapeError,
  /pool\(x\): expected at least one time step, got shape \[2,0,4\]/,
);
for (const mode of ['mean', 'max', 'sum', 'first', 'last', 'flatten', 'none'] as const) {
  defined(
    poolF,
    `empty batch, '${mode}' (as PyTorch: an empty result)`,
    () => pool(x(0, 3, 4), mode),
    [mode === 'flatten' ? [0, 12] : mode === 'none' ? [0, 3, 4] : [0, 4]],
  );
}
fn(
  poolF,
  'lengths: wrong count',
  () => pool(x(2, 3, 4), 'mean', { lengths: [3] }),
  ShapeError,
  /pool\(opts\.lengths\): expected 2 lengths \(one per sequence\), got 1/,
);
fn(
  poolF,
  'lengths: zero',
  () => pool(x(2, 3, 4), 'max', { lengths: [3, 0] }),
  RangeError,
  /pool\(opts\.lengths\): expected integers in \[1, 3\] \(the sequence length\), got 0 at index 1/,
);
fn(
  poolF,
  'lengths: negative',
  () => pool(x(2, 3, 4), 'last', { lengths: [-1, 3] }),
  RangeError,
  /pool\(opts\.lengths\): expected integers in \[1, 3\].*got -1 at index 0/,
);
fn(
  poolF,
  'lengths: non-integer',
  () => pool(x(2, 3, 4), 'sum', { lengths: [1.5, 3] }),
  RangeError,
  /pool\(opts\.lengths\): expected integers in \[1, 3\].*got 1\.5 at index 0/,
);
fn(
  poolF,
  'lengths: longer than the sequence',
  () => pool(x(2, 3, 4), 'flatten', { lengths: [4, 3] }),
  RangeError,
  /pool\(opts\.lengths\): expected integers in \[1, 3\].*got 4 at index 0/,
);
fn(
  poolF,
  'lengths: not an array',
  () => pool(x(2, 3, 4), 'mean', { lengths: 3 as never }),
  TypeError,
  /pool\(opts\.lengths\): expected an array of 2 lengths, got 3/,
);
fn(
  poolF,
  'attention without the module',
  () => pool(x(2, 3, 4), 'attention'),
  TypeError,
  /pool\(x, 'attention'\): expected opts\.attention, an AttentionPooling module .*got undefined/,
);
fn(
  poolF,
  'unknown option mask',
  () => pool(x(2, 3, 4), 'mean', { mask: [1, 1] } as never),
  TypeError,
  /pool: unknown option "mask"; expected one of "lengths", "attention"/,
);
fn(
  poolF,
  'disposed x',
  () => pool(gone(2, 3, 4), 'mean'),
  DisposedError,
  /pool\(x\): the tensor \(shape \[2,3,4\]\) was already disposed/,
);

const attentionF: Family<AttentionPooling> = {
  name: 'AttentionPooling',
  make: () => new AttentionPooling({ inputSize: 4 }),
  ok: (m) => [
    [m.forward(det([2, 3, 4]), { lengths: [2, 3] }), [2, 4]],
    [m.weights(det([2, 3, 4])), [2, 3]],
  ],
};
fn(
  attentionF,
  'inputSize 0',
  () => new AttentionPooling({ inputSize: 0 }),
  RangeError,
  /AttentionPooling\(\{ inputSize \}\): expected a positive integer, got 0/,
);
fn(
  attentionF,
  'unknown option input_size',
  () => new AttentionPooling({ input_size: 4 } as never),
  TypeError,
  /AttentionPooling: unknown option "input_size" \(did you mean "inputSize"\?\)/,
);
on(
  attentionF,
  'wrong feature size',
  (m) => m.forward(x(2, 3, 5)),
  ShapeError,
  /AttentionPooling\.forward\(x\): expected shape \[\*,\*,4\], got \[2,3,5\]/,
);
on(
  attentionF,
  'x of rank 2',
  (m) => m.forward(x(3, 4)),
  ShapeError,
  /AttentionPooling\.forward\(x\): expected shape \[\*,\*,4\], got \[3,4\]/,
);
on(
  attentionF,
  'via pool(): wrong feature size',
  (m) => pool(x(2, 3, 5), 'attention', { attention: m }),
  ShapeError,
  /AttentionPooling\.forward\(x\): expected shape \[\*,\*,4\], got \[2,3,5\]/,
);
on(
  attentionF,
  'lengths: longer than the sequence',
  (m) => m.forward(x(2, 3, 4), { lengths: [3, 9] }),
  RangeError,
  /AttentionPooling\.forward\(opts\.lengths\): expected integers in \[1, 3\].*got 9 at index 1/,
);
on(
  attentionF,
  'weights(): lengths zero',
  (m) => m.weights(x(2, 3, 4), { lengths: [0, 1] }),
  RangeError,
  /AttentionPooling\.forward\(opts\.lengths\): expected integers in \[1, 3\].*got 0 at index 0/,
);
on(
  attentionF,
  'zero-length sequence',
  (m) => m.forward(x(2, 0, 4)),
  ShapeError,
  /AttentionPooling\.forward\(x\): expected at least one time step, got shape \[2,0,4\]/,
);
defined(attentionF, 'empty batch (an empty result)', (m) => m.forward(x(0, 3, 4)), [[0, 4]]);
defined(attentionF, 'weights(): empty batch', (m) => m.weights(x(0, 3, 4)), [[0, 3]]);
defined(
  attentionF,
  "pool(x, 'attention'): empty batch",
  (m) => pool(x(0, 3, 4), 'attention', { attention: m }),
  [[0, 4]],
);
on(
  attentionF,
  'disposed module',
  (m) => {
    m.dispose();
    m.forward(x(2, 3, 4));
  },
  DisposedError,
  /AttentionPooling: this module was disposed/,
  { disposes: true },
);

const idsEncF: Family<SequenceEncoder> = {
  name: 'SequenceEncoder (ids)',
  make: () =>
    new SequenceEncoder({
      vocabSize: 10,
      embeddingDim: 3,
      paddingIdx: 0,
      cell: 'lstm',
      hiddenSize: 4,
      bidirectional: true,
      pooling: 'mean',
    }),
  ok: (m) => [
    [
      m.forward(
        tf.tensor2d(
          [
            [1, 2, 3],
            [4, 9, 0],
          ],
          [2, 3],
          'int32',
        ),
        { lengths: [3, 2] },
      ),
      [2, 8],
    ],
  ],
};
fn(
  idsEncF,
  'vocabSize 0',
  () =>
    new SequenceEncoder({
      vocabSize: 0,
      embeddingDim: 3,
      cell: 'gru',
      hiddenSize: 4,
      pooling: 'mean',
    }),
  RangeError,
  /SequenceEncoder\(\{ vocabSize \}\): expected a positive integer, got 0/,
);
fn(
  idsEncF,
  'embeddingDim missing',
  () => new SequenceEncoder({ vocabSize: 10, cell: 'gru', hiddenSize: 4, pooling: 'mean' }),
  RangeError,
  /SequenceEncoder\(\{ embeddingDim \}\): expected a positive integer, got undefined/,
);
fn(
  idsEncF,
  'cell transformer',
  () =>
    new SequenceEncoder({
      inputSize: 3,
      cell: 'transformer' as never,
      hiddenSize: 4,
      pooling: 'mean',
    }),
  TypeError,
  /SequenceEncoder\(\{ cell \}\): expected one of 'rnn', 'lstm', 'gru', got "transformer"/,
);
fn(
  idsEncF,
  'pooling avg',
  () => new SequenceEncoder({ inputSize: 3, cell: 'gru', hiddenSize: 4, pooling: 'avg' as never }),
  TypeError,
  /SequenceEncoder\(\{ pooling \}\): expected one of 'mean', .*got "avg"/,
);
fn(
  idsEncF,
  'unknown option hidden_size',
  () =>
    new SequenceEncoder({ inputSize: 3, cell: 'gru', hidden_size: 4, pooling: 'mean' } as never),
  TypeError,
  /SequenceEncoder: unknown option "hidden_size" \(did you mean "hiddenSize"\?\)/,
);
fn(
  idsEncF,
  'unknown option batch_first',
  () =>
    new SequenceEncoder({
      inputSize: 3,
      cell: 'gru',
      hiddenSize: 4,
      pooling: 'mean',
      batch_first: true,
    } as never),
  TypeError,
  /SequenceEncoder: unknown option "batch_first"/,
);
fn(
  idsEncF,
  'both vocabSize and inputSize',
  () =>
    new SequenceEncoder({
      vocabSize: 10,
      embeddingDim: 3,
      inputSize: 3,
      cell: 'gru',
      hiddenSize: 4,
      pooling: 'mean',
    }),
  TypeError,
  /SequenceEncoder: give either \{ vocabSize, embeddingDim \} \(token ids\) or \{ inputSize \} \(features\), not both/,
);
fn(
  idsEncF,
  'outputSize 0 (after the layers were built)',
  () =>
    new SequenceEncoder({
      vocabSize: 10,
      embeddingDim: 3,
      cell: 'gru',
      hiddenSize: 4,
      pooling: 'attention',
      outputSize: 0,
    }),
  RangeError,
  /SequenceEncoder\(\{ outputSize \}\): expected a positive integer, got 0/,
);
fn(
  idsEncF,
  "outputSize with pooling 'flatten'",
  () =>
    new SequenceEncoder({
      inputSize: 3,
      cell: 'lstm',
      hiddenSize: 4,
      pooling: 'flatten',
      outputSize: 2,
    }),
  TypeError,
  /SequenceEncoder\(\{ outputSize \}\): not available with pooling 'flatten'/,
);
fn(
  idsEncF,
  'paddingIdx out of range',
  () =>
    new SequenceEncoder({
      vocabSize: 10,
      embeddingDim: 3,
      paddingIdx: 10,
      cell: 'gru',
      hiddenSize: 4,
      pooling: 'mean',
    }),
  RangeError,
  /Embedding\(\{ paddingIdx \}\): expected an integer in \[-10, 9\], got 10/,
);
on(
  idsEncF,
  'float token ids',
  (m) => m.forward(x(2, 3)),
  TypeError,
  /SequenceEncoder\.forward\(input\): expected an int32 tensor of token ids, got a float32 tensor of shape \[2,3\]/,
);
on(
  idsEncF,
  'negative token id',
  (m) => m.forward(ints([[1, 2, -3]])),
  RangeError,
  /SequenceEncoder\.forward\(input\): expected ids in \[0, 9\].*got -3 at flat index 2/,
);
on(
  idsEncF,
  'out-of-vocabulary id',
  (m) =>
    m.forward(
      ints([
        [1, 2, 3],
        [10, 0, 0],
      ]),
    ),
  RangeError,
  /SequenceEncoder\.forward\(input\): expected ids in \[0, 9\].*got 10 at flat index 3/,
);
on(
  idsEncF,
  'ids of rank 3',
  (m) => m.forward(typed([2, 3, 1], 'int32')),
  ShapeError,
  /SequenceEncoder\.forward\(input\): expected token ids \[B, T\], got shape \[2,3,1\]/,
);
on(
  idsEncF,
  'ids of rank 1',
  (m) => m.forward(ints([1, 2, 3])),
  ShapeError,
  /SequenceEncoder\.forward\(input\): expected token ids \[B, T\], got shape \[3\]/,
);
on(
  idsEncF,
  'zero-length sequences',
  (m) => m.forward(typed([2, 0], 'int32')),
  ShapeError,
  /SequenceEncoder\.forward\(input\): expected at least one time step, got shape \[2,0\]/,
);
defined(
  idsEncF,
  'empty batch (as PyTorch: an empty result)',
  (m) => m.forward(typed([0, 3], 'int32')),
  [[0, 8]],
);
on(
  idsEncF,
  'lengths: longer than the sequence',
  (m) => m.forward(ints([[1, 2, 3]]), { lengths: [4] }),
  RangeError,
  /SequenceEncoder\.forward\(opts\.lengths\): expected integers in \[1, 3\].*got 4 at index 0/,
);
on(
  idsEncF,
  'lengths: wrong count',
  (m) => m.forward(ints([[1, 2, 3]]), { lengths: [3, 3] }),
  ShapeError,
  /SequenceEncoder\.forward\(opts\.lengths\): expected 1 lengths \(one per sequence\), got 2/,
);
on(
  idsEncF,
  'lengths: zero',
  (m) => m.forward(ints([[1, 2, 3]]), { lengths: [0] }),
  RangeError,
  /SequenceEncoder\.forward\(opts\.lengths\): expected integers in \[1, 3\].*got 0 at index 0/,
);
on(
  idsEncF,
  'unknown forward option lens',
  (m) => m.forward(ints([[1, 2, 3]]), { lens: [3] } as never),
  TypeError,
  /SequenceEncoder\.forward: unknown option "lens"; expected one of "lengths"/,
);
on(
  idsEncF,
  'disposed ids',
  (m) => m.forward(goneInt()),
  DisposedError,
  /SequenceEncoder\.forward\(input\): the tensor.* was already disposed/,
);
on(
  idsEncF,
  'disposed module',
  (m) => {
    m.dispose();
    m.forward(ints([[1, 2]]));
  },
  DisposedError,
  /SequenceEncoder: this module was disposed/,
  { disposes: true },
);

const featEncF: Family<SequenceEncoder> = {
  name: 'SequenceEncoder (features)',
  make: () =>
    new SequenceEncoder({
      inputSize: 3,
      cell: 'rnn',
      hiddenSize: 4,
      numLayers: 2,
      pooling: 'attention',
      outputSize: 2,
    }),
  ok: (m) => [[m.forward(det([2, 5, 3]), { lengths: [5, 2] }), [2, 2]]],
};
on(
  featEncF,
  'wrong feature size',
  (m) => m.forward(x(2, 5, 4)),
  ShapeError,
  /SequenceEncoder\.forward\(input\): expected shape \[\*,\*,3\], got \[2,5,4\]/,
);
on(
  featEncF,
  'features of rank 2',
  (m) => m.forward(x(5, 3)),
  ShapeError,
  /SequenceEncoder\.forward\(input\): expected rank 3 \(\[B, T, 3\]\), got rank 2 with shape \[5,3\]/,
);
on(
  featEncF,
  'int features',
  (m) => m.forward(typed([2, 5, 3], 'int32')),
  TypeError,
  /SequenceEncoder\.forward\(input\): expected a float32 tensor, got a int32 tensor of shape \[2,5,3\]/,
);
on(
  featEncF,
  'zero-length sequences',
  (m) => m.forward(x(2, 0, 3)),
  ShapeError,
  /SequenceEncoder\.forward\(input\): expected at least one time step, got shape \[2,0,3\]/,
);
defined(featEncF, 'empty batch (as PyTorch: an empty result)', (m) => m.forward(x(0, 5, 3)), [
  [0, 2],
]);
on(
  featEncF,
  'lengths: negative',
  (m) => m.forward(x(2, 5, 3), { lengths: [5, -1] }),
  RangeError,
  /SequenceEncoder\.forward\(opts\.lengths\): expected integers in \[1, 5\].*got -1 at index 1/,
);
on(
  featEncF,
  'lengths: non-integer',
  (m) => m.forward(x(2, 5, 3), { lengths: [5, 1.25] }),
  RangeError,
  /SequenceEncoder\.forward\(opts\.lengths\): expected integers in \[1, 5\].*got 1\.25 at index 1/,
);
on(
  featEncF,
  'disposed features',
  (m) => m.forward(gone(2, 5, 3)),
  DisposedError,
  /SequenceEncoder\.forward\(input\): the tensor \(shape \[2,5,3\]\) was already disposed/,
);

const taggerF: Family<SequenceTagger> = {
  name: 'SequenceTagger',
  make: () =>
    new SequenceTagger({
      vocabSize: 8,
      embeddingDim: 3,
      cell: 'gru',
      hiddenSize: 4,
      numClasses: 5,
    }),
  ok: (m) => [
    [m.forward(tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32'), { lengths: [2] }), [1, 4, 5]],
  ],
};
fn(
  taggerF,
  'numClasses 0',
  () => new SequenceTagger({ inputSize: 3, cell: 'gru', hiddenSize: 4, numClasses: 0 }),
  RangeError,
  /SequenceTagger\(\{ numClasses \}\): expected a positive integer, got 0/,
);
fn(
  taggerF,
  'numClasses missing',
  () => new SequenceTagger({ inputSize: 3, cell: 'gru', hiddenSize: 4 } as never),
  RangeError,
  /SequenceTagger\(\{ numClasses \}\): expected a positive integer, got undefined/,
);
fn(
  taggerF,
  'pooling given (fixed to none)',
  () =>
    new SequenceTagger({
      inputSize: 3,
      cell: 'gru',
      hiddenSize: 4,
      numClasses: 2,
      pooling: 'mean',
    } as never),
  TypeError,
  /SequenceTagger: unknown option "pooling"/,
);
fn(
  taggerF,
  'unknown option num_classes',
  () => new SequenceTagger({ inputSize: 3, cell: 'gru', hiddenSize: 4, num_classes: 2 } as never),
  TypeError,
  /SequenceTagger: unknown option "num_classes" \(did you mean "numClasses"\?\)/,
);
fn(
  taggerF,
  'hiddenSize 0',
  () => new SequenceTagger({ inputSize: 3, cell: 'gru', hiddenSize: 0, numClasses: 2 }),
  RangeError,
  /SequenceTagger\(\{ hiddenSize \}\): expected a positive integer, got 0/,
);
on(
  taggerF,
  'out-of-vocabulary id',
  (m) => m.forward(ints([[1, 8]])),
  RangeError,
  /SequenceTagger\.forward\(input\): expected ids in \[0, 7\].*got 8 at flat index 1/,
);
on(
  taggerF,
  'float token ids',
  (m) => m.forward(x(1, 4)),
  TypeError,
  /SequenceTagger\.forward\(input\): expected an int32 tensor of token ids, got a float32 tensor of shape \[1,4\]/,
);
on(
  taggerF,
  'lengths: longer than the sequence',
  (m) => m.forward(ints([[1, 2]]), { lengths: [3] }),
  RangeError,
  /SequenceTagger\.forward\(opts\.lengths\): expected integers in \[1, 2\].*got 3 at index 0/,
);
on(
  taggerF,
  'disposed module',
  (m) => {
    m.dispose();
    m.forward(ints([[1, 2]]));
  },
  DisposedError,
  /SequenceTagger: this module was disposed/,
  { disposes: true },
);

// ---------------------------------------------------------------- the harness

describe(`bad input on every public entry point (${PROJECT_BACKEND})`, () => {
  afterAll(() => {
    const defined = cases.filter((c) => c.result).length;
    console.log(
      `[reliability] bad-input cases tried on ${PROJECT_BACKEND}: ${cases.length} (${cases.length - defined} errors, ${defined} defined empty results)`,
    );
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    manualSeed(SEED);
    const m = c.make();
    const fresh = m === null || c.disposes === true;
    const before = withModule(c.family, m, (t) => runOk(c.family, t));
    // a 'disposed module' case frees the module's parameters: they leave the baseline
    const freed = c.disposes ? m!.parameters() : [];
    const baseline = tf.memory().numTensors - freed.length;
    const baseBytes = tf.memory().numBytes - freed.reduce((n, v) => n + v.size * 4, 0);
    let error: unknown = null;
    let returned: tf.Tensor[] = [];
    try {
      returned = tensorsIn(await c.call(m));
      if (c.result) expect(returned.map((t) => t.shape)).toEqual(c.result);
    } catch (e) {
      error = e;
    } finally {
      tf.dispose(returned);
      releaseTracked();
      for (const o of optimizers.splice(0)) o.dispose();
    }
    // no tensor left behind by the failed call (the inputs it was given are disposed above)
    expect(tf.memory().numTensors, 'tensors leaked by the failed call').toBe(baseline);
    expect(tf.memory().numBytes, 'bytes leaked by the failed call').toBe(baseBytes);
    if (c.result) {
      expect(error).toBeNull();
    } else {
      expect(error, 'the call did not throw').not.toBeNull();
      const err = error as Error;
      expect(err.constructor, `error class (message: ${err.message})`).toBe(c.errorClass);
      expect(err.message).toMatch(c.message);
    }
    // the module (or a fresh one, for constructors and disposed modules) still works, unchanged
    const after = withModule(c.family, fresh ? null : m, (t) => runOk(c.family, t));
    if (!c.family.noCompare) expect(after).toEqual(before);
    m?.dispose(); // a second dispose (after a 'disposed module' case) is harmless
  });
});
