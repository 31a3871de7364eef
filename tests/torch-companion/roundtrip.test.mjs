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
  Attention,
  AttentionPooling,
  loadModel,
  Seq2Seq,
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
/** Attention's inputs: a query [2, 3, 4] (or one step [2, 4]) and keys [2, 4, keySize]. */
const attend =
  (keySize, step = false) =>
  () => ({
    x: tf.randomNormal(step ? [2, 4] : [2, 3, 4], 0, 1, 'float32', 9),
    keys: tf.randomNormal([2, 4, keySize], 0, 1, 'float32', 10),
  });
/** Seq2Seq's inputs: source ids [2, 4] (lengths [2, 4]) and the target fed in [2, 3]. */
const translate = () => ({
  x: ids(),
  tgt: tf.tensor2d(
    [
      [1, 3, 2],
      [4, 5, 6],
    ],
    [2, 3],
    'int32',
  ),
});
const s2s = (o) => () =>
  new Seq2Seq({ srcVocab: 7, tgtVocab: 8, embeddingDim: 3, hiddenSize: 4, ...o });

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
  [
    'attn_dot',
    () => new Attention({ querySize: 4, keySize: 4, mode: 'dot' }),
    'query+keys+lengths',
    attend(4),
  ],
  [
    'attn_general_step',
    () => new Attention({ querySize: 4, keySize: 6, mode: 'general' }),
    'query+keys+lengths',
    attend(6, true),
  ],
  [
    'attn_concat',
    () => new Attention({ querySize: 4, keySize: 6, mode: 'concat', attentionSize: 3 }),
    'query+keys+lengths',
    attend(6),
  ],
  [
    'attn_additive',
    () => new Attention({ querySize: 4, keySize: 6, mode: 'additive' }),
    'query+keys+lengths',
    attend(6),
  ],
  [
    's2s_lstm_bi_additive_feed',
    s2s({
      cell: 'lstm',
      bidirectionalEncoder: true,
      attention: 'additive',
      inputFeeding: true,
      dropout: 0.1,
    }),
    'src+lengths+tgt',
    translate,
  ],
  [
    's2s_gru_l2_general',
    s2s({ cell: 'gru', numLayers: 2, attention: 'general' }),
    'src+lengths+tgt',
    translate,
  ],
  [
    's2s_rnn_bi_concat',
    s2s({ cell: 'rnn', bidirectionalEncoder: true, attention: 'concat' }),
    'src+lengths+tgt',
    translate,
  ],
  ['s2s_lstm_none', s2s({ cell: 'lstm', attention: 'none' }), 'src+lengths+tgt', translate],
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
  [
    't_seq2seq',
    'Seq2Seq',
    {
      srcVocab: 7,
      tgtVocab: 8,
      embeddingDim: 3,
      hiddenSize: 4,
      cell: 'lstm',
      numLayers: 2,
      bidirectionalEncoder: true,
      attention: 'general',
      inputFeeding: true,
    },
    'src+lengths+tgt',
    translate,
  ],
  [
    't_attention',
    'Attention',
    { querySize: 4, keySize: 6, mode: 'additive' },
    'query+keys+lengths',
    attend(6),
  ],
];

function flat(out) {
  if (out instanceof tf.Tensor) return [out];
  if (Array.isArray(out)) return out.flatMap(flat);
  return Object.values(out).flatMap(flat);
}

/** Seq2Seq's logits [B, T, V] from encode() and one step() per target column. */
function steps(m, ins) {
  return tf.tidy(() => {
    let state = m.encode(ins.x, lengths);
    const out = [];
    for (const tokens of tf.unstack(ins.tgt, 1)) {
      const r = m.step(tokens, state);
      out.push(r.logits);
      state = r.state;
    }
    return tf.stack(out, 1);
  });
}

/** rnnkit's forward on the inputs `ins` (x, and keys or tgt), as run_torch.py calls PyTorch's. */
function forward(m, kind, ins) {
  if (kind === 'query+keys+lengths') return flat(m.forward(ins.x, ins.keys, { lengths }));
  if (kind === 'src+lengths+tgt') return [m.forward(ins.x, lengths, ins.tgt), steps(m, ins)];
  return flat(kind.endsWith('+lengths') ? m.forward(ins.x, { lengths }) : m.forward(ins.x));
}

/** The inputs file: x (a tensor, or { x, keys } / { x, tgt }), and lengths when the kind takes them. */
function inputs(kind, given) {
  const t = given instanceof tf.Tensor ? { x: given } : { ...given };
  if (kind.startsWith('ids')) t.x = tf.cast(t.x, 'int32');
  if (kind.includes('lengths')) t.lengths = tf.tensor1d(lengths, 'int32');
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
      const ours = forward(m, kind, ins);
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
      const ours = forward(m, kind, ins);
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
