// The page every recipe bundles: an LSTM forward on the wasm backend through rnnkit's public API,
// checked against the same forward on cpu. The outcome goes to window.result and
// body[data-done]; the recipes differ only in how they tell tfjs where the .wasm files are.
import { manualSeed, setBackend } from '@rnnkit/ops';
import { LSTM } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';

/** Runs the check with `setBackend('wasm', options)`; never throws (errors are reported). */
export async function run(options = {}) {
  const warnings = [];
  const warn = console.warn;
  console.warn = (...args) => {
    warnings.push(args.map(String).join(' '));
    warn(...args);
  };
  const result = { crossOriginIsolated: globalThis.crossOriginIsolated === true, warnings };
  try {
    await setBackend('cpu');
    manualSeed(0);
    const lstm = new LSTM({ inputSize: 8, hiddenSize: 16, batchFirst: true });
    const x = tf.randomUniform([2, 5, 8], -1, 1, 'float32', 1);
    const [want] = lstm.forward(x);
    const expected = Array.from(want.dataSync());
    await setBackend('wasm', options);
    result.backend = tf.getBackend();
    const [out, [hN, cN]] = lstm.forward(x);
    const got = Array.from(out.dataSync());
    result.shapes = [out.shape, hN.shape, cN.shape];
    result.maxDiff = Math.max(...got.map((v, i) => Math.abs(v - expected[i])));
    result.wasmThreads = tf.backend().wasm.tfjs.getThreadsCount();
  } catch (e) {
    result.error = String(e?.stack ?? e);
  } finally {
    console.warn = warn;
  }
  globalThis.result = result;
  document.body.textContent = JSON.stringify(result);
  document.body.dataset.done = 'true';
}
