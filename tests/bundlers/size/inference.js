// The smallest LSTM-inference app: what build.mjs measures (rnnkit + tfjs-core, minified, gzip).
import { setBackend } from '@rnnkit/ops';
import { LSTM } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';

await setBackend('wasm');
const lstm = new LSTM({ inputSize: 8, hiddenSize: 16, batchFirst: true });
const [out] = lstm.forward(tf.randomNormal([2, 5, 8]));
document.body.textContent = String(out.shape);
