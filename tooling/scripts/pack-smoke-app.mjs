// The app that tooling/scripts/pack-smoke.mjs copies into an empty npm project (as smoke.mjs) and
// runs with plain `node`: everything is imported from the installed tarballs, nothing from the
// workspace. Usage there: node smoke.mjs '["@rnnkit/cell", "@rnnkit/ops", ...]'
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { getBackend, Linear, manualSeed, mseLoss, setBackend, trainStep } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';

// Every package loads from its tarball.
const names = JSON.parse(process.argv[2] ?? '[]');
const loaded = [];
let rnnPackage = null;
for (const name of names) {
  let mod;
  try {
    mod = await import(name);
  } catch (e) {
    throw new Error(`${name} does not load from its tarball: ${e.message}`);
  }
  loaded.push(`${name} (${Object.keys(mod).length} exports)`);
  if (name === '@rnnkit/rnn') rnnPackage = mod;
}
console.log(`loaded: ${loaded.join(', ')}`);

const results = {};
for (const backend of ['cpu', 'wasm']) {
  const at = `[${backend}]`;
  await setBackend(backend);
  assert.equal(getBackend(), backend, `${at} getBackend() after setBackend`);
  assert.equal(tf.getBackend(), backend, `${at} tf.getBackend() after setBackend`);

  manualSeed(0);
  const model = new Linear(4, 3);
  const x = tf.tensor2d([
    [1, 2, 3, 4],
    [-1, 0.5, 0, 2],
    [0.25, -2, 1, -0.5],
  ]);
  const y = tf.tensor2d([
    [1, 0, -1],
    [0.5, 0.5, 0.5],
    [-1, 2, 0],
  ]);

  // Forward pass.
  const out = model.forward(x);
  assert.deepEqual(out.shape, [3, 3], `${at} Linear(4, 3).forward([3, 4]) shape`);
  const outValues = Array.from(out.dataSync());
  assert.ok(outValues.every(Number.isFinite), `${at} forward output is finite: ${outValues}`);
  out.dispose();

  // One gradient step (tfjs-core's Node bundle registers no gradients: @rnnkit/ops must).
  const optimizer = tf.train.sgd(0.1);
  const before = model.parameters().map((p) => Array.from(p.dataSync()));
  const lossNow = () => tf.tidy(() => mseLoss(model.forward(x), y).dataSync()[0]);
  const loss0 = lossNow();
  const tensorsBefore = tf.memory().numTensors;
  const step = trainStep(model, () => mseLoss(model.forward(x), y), optimizer);
  const leaked = tf.memory().numTensors - tensorsBefore;
  const loss1 = lossNow();
  const after = model.parameters().map((p) => Array.from(p.dataSync()));

  assert.ok(Number.isFinite(step.loss), `${at} trainStep loss is finite: ${step.loss}`);
  assert.ok(
    Math.abs(step.loss - loss0) < 1e-5,
    `${at} trainStep returns the loss before the step: ${step.loss} vs ${loss0}`,
  );
  assert.ok(step.gradNorm > 0, `${at} gradNorm is positive: ${step.gradNorm}`);
  assert.ok(loss1 < loss0, `${at} loss decreases after one step: ${loss0} -> ${loss1}`);
  assert.ok(
    before.every((b, i) => b.some((v, j) => v !== after[i][j])),
    `${at} every parameter changes after one step`,
  );
  assert.equal(leaked, 0, `${at} trainStep leaves no tensors behind (it left ${leaked})`);

  results[backend] = { outValues, loss1 };
  console.log(
    `${at} Linear forward [3,4] -> [3,3]; loss ${loss0.toFixed(6)} -> ${loss1.toFixed(6)} after one SGD step (grad norm ${step.gradNorm.toFixed(4)})`,
  );
  tf.dispose([x, y]);
  model.dispose();
  optimizer.dispose();

  // The recurrent layers from their tarball too: an LSTM forward pass and one gradient step.
  if (rnnPackage?.LSTM) {
    manualSeed(0);
    const lstm = new rnnPackage.LSTM({ inputSize: 4, hiddenSize: 3 });
    const seq = tf.randomNormal([5, 2, 4], 0, 1, 'float32', 1);
    const target = tf.zeros([5, 2, 3]);
    const tensorsBefore = tf.memory().numTensors;
    const [output, [hN, cN]] = lstm.forward(seq);
    assert.deepEqual(output.shape, [5, 2, 3], `${at} LSTM output shape`);
    assert.deepEqual(hN.shape, [1, 2, 3], `${at} LSTM h_n shape`);
    assert.deepEqual(cN.shape, [1, 2, 3], `${at} LSTM c_n shape`);
    tf.dispose([output, hN, cN]);
    assert.equal(tf.memory().numTensors, tensorsBefore, `${at} LSTM.forward leaves no tensors`);
    const opt = tf.train.sgd(0.5);
    const lossOf = () => tf.tidy(() => mseLoss(lstm.forward(seq)[0], target).dataSync()[0]);
    const l0 = lossOf();
    trainStep(lstm, () => mseLoss(lstm.forward(seq)[0], target), opt);
    const l1 = lossOf();
    assert.ok(l1 < l0, `${at} LSTM loss decreases after one step: ${l0} -> ${l1}`);
    console.log(`${at} LSTM forward [5,2,4] -> [5,2,3]; loss ${l0.toFixed(6)} -> ${l1.toFixed(6)}`);
    tf.dispose([seq, target]);
    lstm.dispose();
    opt.dispose();
  }
}

// The kernel's worker threads from the tarball: a forward large enough to be split across two
// threads gives the same numbers as on one.
const cellPackage = names.includes('@rnnkit/cell') ? await import('@rnnkit/cell') : null;
if (rnnPackage?.GRU && cellPackage) {
  assert.equal(await cellPackage.setKernelThreads(2), 2, 'setKernelThreads(2) in Node');
  manualSeed(0);
  const gru = new rnnPackage.GRU({ inputSize: 32, hiddenSize: 64, batchFirst: true });
  const seq = tf.randomNormal([16, 64, 32], 0, 1, 'float32', 2);
  const run = () => tf.tidy(() => Array.from(gru.forward(seq)[0].dataSync()));
  const two = run();
  assert.equal(await cellPackage.setKernelThreads(1), 1, 'setKernelThreads(1)');
  const one = run();
  assert.deepEqual(two, one, 'GRU forward on 2 threads equals 1 thread');
  console.log(`kernel threads: GRU [16,64,32] -> [16,64,64] on 2 threads equals 1 thread`);
  tf.dispose(seq);
  gru.dispose();
}

// A torch.save checkpoint (copied beside smoke.mjs by pack-smoke.mjs; read through the zip
// dependency from its tarball) and a model file round trip.
const { loadTorchCheckpoint } = await import('@rnnkit/ops');
const ckpt = loadTorchCheckpoint(readFileSync('linear.pt'));
assert.deepEqual(
  Object.keys(ckpt).sort(),
  ['bias', 'weight'],
  'loadTorchCheckpoint(linear.pt) keys',
);
assert.deepEqual(ckpt.weight.shape, [2, 5], 'loadTorchCheckpoint(linear.pt) weight shape');
const headsPackage = names.includes('@rnnkit/heads') ? await import('@rnnkit/heads') : null;
if (headsPackage) {
  const lin = new Linear(5, 2);
  lin.loadStateDict(ckpt);
  const back = headsPackage.loadModel(headsPackage.saveModel(lin));
  assert.deepEqual(
    Array.from(back.weight.dataSync()),
    Array.from(ckpt.weight.dataSync()),
    'model file round trip',
  );
  console.log('torch.save checkpoint -> Linear -> saveModel -> loadModel: same weights');
  lin.dispose();
  back.dispose();
}
tf.dispose(Object.values(ckpt));

// Same seed, same numbers on both backends.
const diff = Math.max(
  ...results.cpu.outValues.map((v, i) => Math.abs(v - results.wasm.outValues[i])),
  Math.abs(results.cpu.loss1 - results.wasm.loss1),
);
assert.ok(diff < 1e-5, `cpu and wasm differ by ${diff}`);
console.log(`cpu vs wasm: largest difference ${diff.toExponential(2)}`);
