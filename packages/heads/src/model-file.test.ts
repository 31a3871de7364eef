import { readFileSync } from 'node:fs';
import * as cellExports from '@rnnkit/cell';
import { ConcatRNNCell, ElmanRNN, GRUCell, LSTMCell, RNNCell } from '@rnnkit/cell';
import { FIXTURES } from '@rnnkit/golden';
import * as opsExports from '@rnnkit/ops';
import {
  Dropout,
  Embedding,
  Linear,
  ModelFileError,
  Module,
  manualSeed,
  safetensorsMetadata,
  saveSafetensors,
} from '@rnnkit/ops';
import * as rnnExports from '@rnnkit/rnn';
import { GRU, LSTM, RNN } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { AttentionPooling } from './attention.js';
import { SequenceEncoder, SequenceTagger } from './encoder.js';
import * as headsExports from './index.js';
import { MODEL_CLASSES } from './model-classes.js';
import { loadModel, saveModel } from './model-file.js';

const ids = () =>
  tf.tensor2d(
    [
      [1, 2, 0],
      [3, 4, 5],
    ],
    [2, 3],
    'int32',
  );
const x3 = () => tf.randomNormal([2, 3], 0, 1, 'float32', 7);
const seq = (f = 3) => tf.randomNormal([2, 5, f], 0, 1, 'float32', 8);

/** Every public class with non-default options and an input to run it on. */
const CASES: Array<[string, () => Module, () => tf.Tensor[]]> = [
  ['Linear', () => new Linear(3, 2, { bias: false }), () => [x3()]],
  ['Embedding', () => new Embedding(7, 3, { paddingIdx: -1 }), () => [ids()]],
  [
    'Embedding',
    () => new Embedding(7, 3, { maxNorm: 0.5, normType: 1, scaleGradByFreq: true }),
    () => [ids()],
  ],
  ['Dropout', () => new Dropout(0.3), () => [x3()]],
  [
    'RNNCell',
    () => new RNNCell({ inputSize: 3, hiddenSize: 4, bias: false, nonlinearity: 'relu' }),
    () => [x3()],
  ],
  ['LSTMCell', () => new LSTMCell({ inputSize: 3, hiddenSize: 4 }), () => [x3()]],
  ['GRUCell', () => new GRUCell({ inputSize: 3, hiddenSize: 4, bias: false }), () => [x3()]],
  [
    'ConcatRNNCell',
    () => new ConcatRNNCell({ inputSize: 3, hiddenSize: 4, activation: 'tanh' }),
    () => [x3()],
  ],
  [
    'ElmanRNN',
    () => new ElmanRNN({ inputDim: 3, hiddenSize: 4, outputDim: 2, activation: 'tanh' }),
    () => [seq()],
  ],
  [
    'RNN',
    () =>
      new RNN({
        inputSize: 3,
        hiddenSize: 4,
        numLayers: 2,
        bidirectional: true,
        nonlinearity: 'relu',
        batchFirst: true,
        dropout: 0.25,
        bias: false,
      }),
    () => [seq()],
  ],
  [
    'LSTM',
    () => new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, projSize: 2 }),
    () => [seq()],
  ],
  [
    'GRU',
    () => new GRU({ inputSize: 3, hiddenSize: 4, bidirectional: true, batchFirst: true }),
    () => [seq()],
  ],
  ['AttentionPooling', () => new AttentionPooling({ inputSize: 3 }), () => [seq()]],
  [
    'SequenceEncoder',
    () =>
      new SequenceEncoder({
        vocabSize: 7,
        embeddingDim: 3,
        paddingIdx: 0,
        cell: 'lstm',
        hiddenSize: 4,
        bidirectional: true,
        numLayers: 2,
        dropout: 0.1,
        pooling: 'attention',
        outputSize: 2,
      }),
    () => [ids()],
  ],
  [
    'SequenceEncoder',
    () => new SequenceEncoder({ inputSize: 3, cell: 'gru', hiddenSize: 4, pooling: 'mean' }),
    () => [seq()],
  ],
  [
    'SequenceTagger',
    () =>
      new SequenceTagger({
        vocabSize: 7,
        embeddingDim: 3,
        cell: 'rnn',
        hiddenSize: 4,
        numClasses: 5,
      }),
    () => [ids()],
  ],
];

/** The tensors in a forward result (a tensor, nested arrays, or an object of tensors). */
function tensorsOf(out: unknown): tf.Tensor[] {
  if (out instanceof tf.Tensor) return [out];
  if (Array.isArray(out)) return out.flatMap(tensorsOf);
  return Object.values(out as object).flatMap(tensorsOf);
}

function config(bytes: Uint8Array) {
  return JSON.parse(safetensorsMetadata(bytes)['rnnkit.config']);
}

/** A model file by hand: the config as given, and tensors. */
function file(cfg: unknown, tensors: Record<string, tf.Tensor> = {}): Uint8Array {
  return saveSafetensors(tensors, { 'rnnkit.config': JSON.stringify(cfg) });
}

function loadError(bytes: Uint8Array): string {
  const before = tf.memory().numTensors;
  try {
    loadModel(bytes).dispose();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFileError);
    expect(tf.memory().numTensors, 'tensors left behind').toBe(before);
    return (e as Error).message;
  }
  throw new Error('expected loadModel to throw');
}

beforeEach(() => manualSeed(3));

describe('saveModel / loadModel', () => {
  for (const [name, make, inputs] of CASES) {
    it(`${name}: rebuilds the same class and options, the same weights bit for bit, the same outputs`, () => {
      const m = make().eval();
      const bytes = saveModel(m);
      const cfg = config(bytes);
      expect(cfg.format).toBe(1);
      expect(cfg.class).toBe(name);
      const before = tf.memory().numTensors;
      const back = loadModel(bytes).eval();
      expect(tf.memory().numTensors).toBe(before + back.parameters().length);
      expect(back.constructor).toBe(m.constructor);
      expect(config(saveModel(back))).toEqual(cfg);
      const [a, b] = [m.stateDict(), back.stateDict()];
      expect(Object.keys(b)).toEqual(Object.keys(a));
      for (const k of Object.keys(a))
        expect(Array.from(b[k].dataSync()), k).toEqual(Array.from(a[k].dataSync()));
      const xs = inputs();
      const [ya, yb] = [
        tensorsOf((m as any).forward(...xs)),
        tensorsOf((back as any).forward(...xs)),
      ];
      expect(yb.length).toBe(ya.length);
      for (let i = 0; i < ya.length; i++) {
        expect(yb[i].shape).toEqual(ya[i].shape);
        expect(Array.from(yb[i].dataSync())).toEqual(Array.from(ya[i].dataSync()));
      }
      tf.dispose([...Object.values(a), ...Object.values(b), ...xs, ...ya, ...yb]);
      m.dispose();
      back.dispose();
    });
  }

  it('covers every public Module class of ops, cell, rnn and heads', () => {
    const classes = [opsExports, cellExports, rnnExports, headsExports].flatMap((mod) =>
      Object.entries(mod).filter(
        ([, v]) => typeof v === 'function' && v.prototype instanceof Module,
      ),
    );
    const abstract = new Set(['RecurrentLayer']);
    const names = classes.map(([n]) => n).filter((n) => !abstract.has(n));
    expect(names.length).toBeGreaterThanOrEqual(14);
    for (const n of names) expect(Object.keys(MODEL_CLASSES), n).toContain(n);
    for (const [n, entry] of Object.entries(MODEL_CLASSES)) expect(entry.ctor.name).toBe(n);
  });

  it('stores extra metadata beside the config', () => {
    const m = new Linear(2, 1);
    const bytes = saveModel(m, { vocab: '["a","b"]' });
    expect(safetensorsMetadata(bytes).vocab).toBe('["a","b"]');
    expect(config(bytes).class).toBe('Linear');
    loadModel(bytes).dispose();
    expect(() => saveModel(m, { 'rnnkit.config': '{}' })).toThrow(
      /saveModel\(metadata\): "rnnkit\.config" is written by saveModel itself/,
    );
    m.dispose();
  });

  it('writes children for composite classes', () => {
    const m = new SequenceEncoder({
      vocabSize: 7,
      embeddingDim: 3,
      cell: 'gru',
      hiddenSize: 4,
      pooling: 'last',
      outputSize: 2,
    });
    const cfg = config(saveModel(m));
    expect(cfg.children.embedding).toEqual({
      class: 'Embedding',
      options: { numEmbeddings: 7, embeddingDim: 3 },
    });
    expect(cfg.children.rnn.class).toBe('GRU');
    expect(cfg.children.rnn.options.batchFirst).toBe(true);
    expect(cfg.children.proj).toEqual({
      class: 'Linear',
      options: { inFeatures: 4, outFeatures: 2, bias: true },
    });
    m.dispose();
  });
});

describe('saveModel / loadModel on bad input', () => {
  it('saveModel refuses what is not a public class, naming it', () => {
    class MyLSTM extends LSTM {}
    const m = new MyLSTM({ inputSize: 2, hiddenSize: 2 });
    expect(() => saveModel(m)).toThrow(ModelFileError);
    expect(() => saveModel(m)).toThrow(
      /saveModel\(module\): MyLSTM is not a public rnnkit class .*; save its weights with saveSafetensors\(module\.stateDict\(\)\)/,
    );
    expect(() => saveModel({} as any)).toThrow(
      /saveModel\(module\): expected an rnnkit Module, got/,
    );
    m.dispose();
  });

  it('says what a file is when it is not a model file', () => {
    const torch = new Uint8Array(readFileSync(`${FIXTURES}torch/linear.pt`));
    expect(loadError(torch)).toMatch(
      /^loadModel\(bytes\): this is a PyTorch checkpoint \(torch\.save\); expected an rnnkit model file \(safetensors with rnnkit\.config, from saveModel\); read its tensors with loadTorchCheckpoint from @rnnkit\/ops/,
    );
    const legacy = new Uint8Array(readFileSync(`${FIXTURES}torch/legacy.pt`));
    expect(loadError(legacy)).toMatch(
      /this is a PyTorch checkpoint \(legacy torch\.save format\); expected an rnnkit model file/,
    );
    const w = tf.ones([2]);
    expect(loadError(saveSafetensors({ w }))).toMatch(
      /this is a safetensors file without rnnkit\.config \(a bare state dict\); expected an rnnkit model file .*; load it with loadSafetensors and module\.loadStateDict$/,
    );
    w.dispose();
    const onnx = new Uint8Array(readFileSync(`${FIXTURES}torch/not_a_checkpoint.onnx`));
    expect(loadError(onnx)).toMatch(
      /this is an ONNX model \(protobuf\); expected an rnnkit model file/,
    );
    expect(() => loadModel('model.safetensors' as any)).toThrow(
      /loadModel\(bytes\): expected a Uint8Array, got "model\.safetensors"/,
    );
  });

  it('names an unknown class, a newer format and a malformed config', () => {
    expect(loadError(file({ format: 1, class: 'Transformer', options: {} }))).toMatch(
      /unknown class "Transformer"; this version knows Linear, Embedding, .*SequenceTagger/,
    );
    expect(loadError(file({ format: 2, class: 'Linear', options: {} }))).toMatch(
      /the file has model format 2, newer than format 1 that this version of @rnnkit\/heads reads; upgrade @rnnkit\/heads/,
    );
    expect(loadError(file({ format: 0, class: 'Linear', options: {} }))).toMatch(
      /rnnkit\.config\.format must be a positive integer, got 0/,
    );
    expect(loadError(file({ format: 1, class: 'Linear', options: [] }))).toMatch(
      /rnnkit\.config\.options must be an object/,
    );
    expect(loadError(file([1]))).toMatch(/rnnkit\.config must be a JSON object, got an array/);
    expect(loadError(saveSafetensors({}, { 'rnnkit.config': '{format' }))).toMatch(
      /rnnkit\.config is not valid JSON/,
    );
  });

  it('reports options the class rejects and weights that do not fit, leaving nothing behind', () => {
    expect(
      loadError(file({ format: 1, class: 'Linear', options: { inFeatures: -1, outFeatures: 2 } })),
    ).toMatch(/Linear rejected the file's options: Linear\(inFeatures\)/);
    const w = tf.ones([2, 5]);
    const w3 = tf.ones([2, 3]);
    const b = tf.ones([2]);
    expect(
      loadError(
        file(
          { format: 1, class: 'Linear', options: { inFeatures: 3, outFeatures: 2 } },
          { weight: w, bias: b },
        ),
      ),
    ).toMatch(/the weights do not fit Linear: .*weight/s);
    expect(
      loadError(
        file(
          { format: 1, class: 'Linear', options: { inFeatures: 3, outFeatures: 2, bias: false } },
          { weight: w3, bias: b },
        ),
      ),
    ).toMatch(/the weights do not fit Linear: .*bias/s);
    const m = new SequenceEncoder({ inputSize: 3, cell: 'gru', hiddenSize: 4, pooling: 'mean' });
    const cfg = config(saveModel(m));
    m.dispose();
    cfg.children.rnn.options.hiddenSize = 5;
    expect(loadError(file(cfg))).toMatch(
      /the file's children do not match what SequenceEncoder builds from its options/,
    );
    tf.dispose([w, w3, b]);
  });
});
