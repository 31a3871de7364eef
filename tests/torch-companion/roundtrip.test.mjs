// Round trips between rnnkit and python/rnnkit_torch.py, run with Debian's PyTorch (/usr/bin/python3).
// `pnpm test:torch` (needs python3-torch; not part of `pnpm test`, which never needs Python).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConcatRNNCell, ElmanRNN, GRUCell, LSTMCell, RNNCell } from '@rnnkit/cell';
import {
  AttentionPooling,
  loadModel,
  SequenceEncoder,
  SequenceTagger,
  saveModel,
} from '@rnnkit/heads';
import {
  Dropout,
  Embedding,
  Linear,
  loadSafetensors,
  manualSeed,
  safetensorsMetadata,
  saveSafetensors,
  setBackend,
} from '@rnnkit/ops';
import { GRU, LSTM, RNN } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';

const DRIVER = fileURLToPath(new URL('./run_torch.py', import.meta.url));
const ids = () =>
  tf.tensor2d(
    [
      [1, 2, 0, 0],
      [3, 4, 5, 6],
    ],
    [2, 4],
    'int32',
  );
const x2 = () => tf.randomNormal([2, 3], 0, 1, 'float32', 7);
const seq = () => tf.randomNormal([2, 4, 3], 0, 1, 'float32', 8);
const lengths = [2, 4];

/** name, module, kind of call (as run_torch.py names it), input */
const RNNKIT = [
  ['linear', () => new Linear(3, 2), 'x', x2],
  ['linear_nobias', () => new Linear(3, 2, { bias: false }), 'x', x2],
  ['embedding', () => new Embedding(7, 3, { paddingIdx: 0 }), 'ids', ids],
  [
    'embedding_maxnorm',
    () => new Embedding(7, 3, { maxNorm: 0.5, normType: 1, scaleGradByFreq: true }),
    'ids',
    ids,
  ],
  ['dropout', () => new Dropout(0.3), 'x', x2],
  ['rnncell', () => new RNNCell({ inputSize: 3, hiddenSize: 4, nonlinearity: 'relu' }), 'x', x2],
  ['lstmcell', () => new LSTMCell({ inputSize: 3, hiddenSize: 4, bias: false }), 'x', x2],
  ['grucell', () => new GRUCell({ inputSize: 3, hiddenSize: 4 }), 'x', x2],
  [
    'concatcell',
    () => new ConcatRNNCell({ inputSize: 3, hiddenSize: 4, activation: 'tanh' }),
    'x',
    x2,
  ],
  ['elman', () => new ElmanRNN({ inputDim: 3, hiddenSize: 4, outputDim: 2 }), 'x', seq],
  [
    'rnn',
    () =>
      new RNN({
        inputSize: 3,
        hiddenSize: 4,
        numLayers: 2,
        bidirectional: true,
        batchFirst: true,
        nonlinearity: 'relu',
        dropout: 0.2,
      }),
    'x',
    seq,
  ],
  ['lstm', () => new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, projSize: 2 }), 'x', seq],
  [
    'gru',
    () => new GRU({ inputSize: 3, hiddenSize: 4, bidirectional: true, bias: false }),
    'x',
    seq,
  ],
  ['attention', () => new AttentionPooling({ inputSize: 3 }), 'x', seq],
  [
    'encoder',
    () =>
      new SequenceEncoder({
        vocabSize: 7,
        embeddingDim: 3,
        paddingIdx: 0,
        cell: 'lstm',
        hiddenSize: 4,
        bidirectional: true,
        pooling: 'attention',
        outputSize: 2,
      }),
    'ids+lengths',
    ids,
  ],
  [
    'encoder_mean',
    () =>
      new SequenceEncoder({
        inputSize: 3,
        cell: 'gru',
        hiddenSize: 4,
        numLayers: 2,
        pooling: 'mean',
      }),
    'x+lengths',
    seq,
  ],
  [
    'encoder_max',
    () =>
      new SequenceEncoder({
        vocabSize: 7,
        embeddingDim: 3,
        cell: 'rnn',
        hiddenSize: 4,
        pooling: 'max',
      }),
    'ids+lengths',
    ids,
  ],
  [
    'tagger',
    () =>
      new SequenceTagger({
        vocabSize: 7,
        embeddingDim: 3,
        cell: 'gru',
        hiddenSize: 4,
        bidirectional: true,
        numClasses: 5,
      }),
    'ids+lengths',
    ids,
  ],
];

/** Modules made in PyTorch (its own init) by rnnkit_torch's class table. */
const TORCH = [
  [
    't_lstm',
    'LSTM',
    { inputSize: 3, hiddenSize: 4, numLayers: 2, batchFirst: true, bidirectional: true },
    'x',
    seq,
  ],
  ['t_gru', 'GRU', { inputSize: 3, hiddenSize: 4 }, 'x', seq],
  ['t_rnncell', 'RNNCell', { inputSize: 3, hiddenSize: 4 }, 'x', x2],
  ['t_linear', 'Linear', { inFeatures: 3, outFeatures: 2 }, 'x', x2],
  [
    't_encoder',
    'SequenceEncoder',
    {
      vocabSize: 7,
      embeddingDim: 3,
      cell: 'gru',
      hiddenSize: 4,
      bidirectional: true,
      pooling: 'last',
      outputSize: 3,
    },
    'ids+lengths',
    ids,
  ],
];

function flat(out) {
  if (out instanceof tf.Tensor) return [out];
  if (Array.isArray(out)) return out.flatMap(flat);
  return Object.values(out).flatMap(flat);
}

function forward(m, kind, x) {
  return flat(kind.endsWith('+lengths') ? m.forward(x, { lengths }) : m.forward(x));
}

function inputs(kind, x) {
  const t = { x: kind.startsWith('ids') ? tf.cast(x, 'int32') : x };
  if (kind.endsWith('+lengths')) t.lengths = tf.tensor1d(lengths, 'int32');
  return saveSafetensors(t);
}

function maxDiff(a, b) {
  assert.deepEqual(a.shape, b.shape);
  const [x, y] = [a.dataSync(), b.dataSync()];
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

const config = (bytes) => JSON.parse(safetensorsMetadata(bytes)['rnnkit.config']);
let dir;
const read = (f) => new Uint8Array(readFileSync(join(dir, f)));

describe('rnnkit <-> PyTorch through python/rnnkit_torch.py', () => {
  const report = [];
  before(async () => {
    await setBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'rnnkit-torch-'));
    manualSeed(5);
    for (const [name, make, kind, input] of RNNKIT) {
      const m = make().eval();
      writeFileSync(join(dir, `${name}.model.safetensors`), saveModel(m));
      writeFileSync(join(dir, `${name}.inputs.safetensors`), inputs(kind, input()));
      m.dispose();
    }
    for (const [name, , , kind, input] of TORCH)
      writeFileSync(join(dir, `${name}.inputs.safetensors`), inputs(kind, input()));
    const manifest = {
      rnnkit: RNNKIT.map(([name, , kind]) => ({ name, kind })),
      torch: TORCH.map(([name, cls, options, kind]) => ({ name, class: cls, options, kind })),
    };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    execFileSync('/usr/bin/python3', [DRIVER, dir], { stdio: 'inherit' });
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    console.log(report.join('\n'));
  });

  for (const [name, , kind] of RNNKIT) {
    it(`${name}: JS -> Python -> JS gives the same bytes, and PyTorch's outputs are within 1e-6 of rnnkit's`, () => {
      const original = read(`${name}.model.safetensors`);
      const back = read(`${name}.back.safetensors`);
      assert.deepEqual(config(back), config(original));
      // the file Python writes back is byte for byte the one rnnkit wrote
      assert.equal(Buffer.compare(Buffer.from(back), Buffer.from(original)), 0, 'bytes differ');
      const [a, b] = [loadSafetensors(original), loadSafetensors(back)];
      assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
      for (const k of Object.keys(a))
        assert.deepEqual(Array.from(b[k].dataSync()), Array.from(a[k].dataSync()), k);
      const m = loadModel(back).eval();
      const ins = loadSafetensors(read(`${name}.inputs.safetensors`));
      const ours = forward(m, kind, ins.x);
      const theirs = loadSafetensors(read(`${name}.torch-out.safetensors`));
      assert.equal(Object.keys(theirs).length, ours.length);
      let worst = 0;
      ours.forEach((t, i) => {
        worst = Math.max(worst, maxDiff(t, theirs[`out.${i}`]));
      });
      assert.ok(worst <= 1e-6, `${name}: max |rnnkit - torch| = ${worst}`);
      report.push(`${name}: bytes identical, max |rnnkit - torch| ${worst.toExponential(2)}`);
      tf.dispose([
        ...Object.values(a),
        ...Object.values(b),
        ...Object.values(ins),
        ...ours,
        ...Object.values(theirs),
      ]);
      m.dispose();
    });
  }

  for (const [name, cls, , kind] of TORCH) {
    it(`${name}: a ${cls} made in PyTorch loads in rnnkit with PyTorch's outputs within 1e-6`, () => {
      const m = loadModel(read(`${name}.model.safetensors`)).eval();
      assert.equal(m.constructor.name, cls);
      const ins = loadSafetensors(read(`${name}.inputs.safetensors`));
      const ours = forward(m, kind, ins.x);
      const theirs = loadSafetensors(read(`${name}.torch-out.safetensors`));
      let worst = 0;
      ours.forEach((t, i) => {
        worst = Math.max(worst, maxDiff(t, theirs[`out.${i}`]));
      });
      assert.ok(worst <= 1e-6, `${name}: max |rnnkit - torch| = ${worst}`);
      report.push(`${name}: max |rnnkit - torch| ${worst.toExponential(2)}`);
      tf.dispose([...Object.values(ins), ...ours, ...Object.values(theirs)]);
      m.dispose();
    });
  }
});
