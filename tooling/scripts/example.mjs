#!/usr/bin/env node
// `pnpm example`: a small end-to-end run of the built @rnnkit/ops (packages/ops/dist) on the cpu and
// wasm backends. It fits a Linear(3, 1) to a toy regression, y = 2 x0 - 3 x1 + 0.5 x2 + 1, with
// 100 steps of trainStep + SGD, prints the loss before and after and the learned weights, and
// checks that both backends agree. Builds nothing itself: the root "example" script builds
// @rnnkit/ops first. Exits non-zero if training does not converge.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = new URL('../../packages/ops/dist/index.js', import.meta.url);
if (!existsSync(fileURLToPath(dist))) {
  console.error(
    `example: ${fileURLToPath(dist)} is missing; run \`pnpm build\` (or \`pnpm example\`).`,
  );
  process.exit(1);
}
const tf = await import('@tensorflow/tfjs-core');
const { Linear, manualSeed, mseLoss, setBackend, trainStep } = await import(dist.href);

const TRUE_W = [2, -3, 0.5];
const TRUE_B = 1;
const N = 64;
const STEPS = 100;

// Deterministic inputs in [-1, 1) from a small LCG, and exact targets.
function dataset() {
  let s = 12345;
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
  const xs = [];
  const ys = [];
  for (let i = 0; i < N; i++) {
    const x = [next(), next(), next()];
    xs.push(x);
    ys.push([x.reduce((acc, v, j) => acc + v * TRUE_W[j], TRUE_B)]);
  }
  return { x: tf.tensor2d(xs), y: tf.tensor2d(ys) };
}

const fmt = (v) => (v < 1e-3 ? v.toExponential(2) : v.toFixed(4));
const results = {};
for (const backend of ['cpu', 'wasm']) {
  await setBackend(backend);
  manualSeed(0);
  const model = new Linear(3, 1);
  const { x, y } = dataset();
  const optimizer = tf.train.sgd(0.1);
  const lossNow = () => tf.tidy(() => mseLoss(model.forward(x), y).dataSync()[0]);

  const t0 = performance.now();
  const before = lossNow();
  for (let i = 0; i < STEPS; i++) trainStep(model, () => mseLoss(model.forward(x), y), optimizer);
  const after = lossNow();
  const ms = performance.now() - t0;

  const sd = model.stateDict();
  const weight = Array.from(sd.weight.dataSync());
  const bias = sd.bias.dataSync()[0];
  tf.dispose([...Object.values(sd), x, y]);
  model.dispose();
  optimizer.dispose();
  results[backend] = { before, after, weight, bias, ms, tensors: tf.memory().numTensors };
}

console.log(
  `rnnkit example: Linear(3, 1) fitted to y = 2 x0 - 3 x1 + 0.5 x2 + 1 (${N} points, ${STEPS} SGD steps, lr 0.1)\n`,
);
console.log('backend  loss before  loss after  weight                      bias     time');
for (const [backend, r] of Object.entries(results)) {
  const w = `[${r.weight.map((v) => v.toFixed(3)).join(', ')}]`;
  console.log(
    `${backend.padEnd(8)} ${fmt(r.before).padStart(11)}  ${fmt(r.after).padStart(10)}  ${w.padEnd(26)}  ${r.bias.toFixed(3).padStart(6)}  ${r.ms.toFixed(0).padStart(4)} ms`,
  );
}

const { cpu, wasm } = results;
const problems = [];
for (const [backend, r] of Object.entries(results)) {
  if (!(r.after < r.before / 100))
    problems.push(`${backend}: loss did not drop 100x (${r.before} -> ${r.after})`);
}
const diff = Math.max(
  Math.abs(cpu.after - wasm.after),
  Math.abs(cpu.bias - wasm.bias),
  ...cpu.weight.map((v, i) => Math.abs(v - wasm.weight[i])),
);
if (diff > 1e-4) problems.push(`cpu and wasm disagree by ${diff}`);
console.log(
  `\ncpu vs wasm: largest difference ${diff.toExponential(2)}; tensors left: ${wasm.tensors}`,
);
if (problems.length > 0) {
  console.error(`example FAILED:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('example OK');
