/** The Notes section of a run's Markdown: how each implementation is called, and what the run saw. */
import type { BackendName } from './cases.js';
import { fmtMs } from './report.js';
import type { CaseResult } from './results.js';

/** The notes: each implementation's setup, then stock GRU times, cold runs and leaks if any. */
export function notes(
  results: CaseResult[],
  ortBackend: BackendName,
  backends: BackendName[],
): string[] {
  const n: string[] = [
    'rnnkit: `RNN`/`LSTM`/`GRU` from @rnnkit/rnn with `batchFirst: true`, `forward(x)[0]`, output read back with `dataSync()` (every column reads its output back).',
    'tfjs-layers: one `simpleRNN`/`lstm` layer (returnSequences, sigmoid gates: tfjs-layers defaults to hardSigmoid) called eagerly with `layer.apply(x)` (lighter than `model.predict`), weights converted from PyTorch: kernel = weight_ih^T, recurrentKernel = weight_hh^T, bias = bias_ih + bias_hh. ' +
      "tfjs-layers 4.22 refuses `resetAfter: true`, which PyTorch's GRU is, so its GRU column runs a Keras reset_after=True GRU cell (`ResetAfterGRUCell`, gates r,z,n reordered to z,r,h, biases kept apart) inside tfjs-layers' own `tf.layers.rnn` loop.",
    "onnxruntime-node (native, CPU execution provider, `intraOpNumThreads` = rnnkit's threads, and 1 against rnnkit on one thread; sequential execution, idle threads not spinning: `session.intra_op.allow_spinning` = 0, else they take the CPU from the contender timed next) on the same exported models, in the same interleaved rounds as ONNX Runtime Web.",
    "PyTorch (training step): torch_train.py with Debian's torch in its own Python process on rnnkit's threads (`torch.set_num_threads`), `nn.{RNN,LSTM,GRU}(batch_first=True)` with rnnkit's initial weights, MSE loss, Adam(1e-3); each call asks it for one step over a pipe (about 0.1 ms of the call), in the same interleaved rounds.",
    'decode step: one step (T = 1) of one sequence (B = 1) from a zero state, output read back; every implementation alike (none passes a state in).',
    'naive loop: plain tfjs-core ops, per step `tf.slice` of x_t and two matMuls (x_t and h), no hoisted input projection, `tf.stack` at the end.',
    `ONNX Runtime Web: \`torch.onnx.export\` (opset 14, dynamic batch and time) of the PyTorch module whose weights rnnkit loads (export_onnx.py), run with the wasm execution provider, 1 thread, in Node. It does not depend on the tfjs backend: it is timed once per case, interleaved with the ${ortBackend} pass${backends.length > 1 ? ", and the other backend's row repeats that time" : ''}.`,
    "training step: forward + MSE loss + backward + Adam(1e-3); rnnkit `trainStep`, tfjs-layers `model.trainOnBatch` (compiled with Adam and meanSquaredError), naive loop `tf.variableGrads` + `applyGradients`. Checked: the first step's loss is equal.",
    "tfjs-core's Node build registers no chained tensor methods, which tfjs-layers needs; the bench registers tfjs-core's own (as @tensorflow/tfjs does). rnnkit does not use them.",
  ];
  const stock = results.filter((r) => r.impls['tfjs-layers-stock-gru']?.summary);
  if (stock.length > 0) {
    n.push(
      "Stock `tf.layers.gru` (reset_after=False: a different function, output differs from PyTorch's by up to " +
        `${Math.max(...stock.map((r) => r.impls['tfjs-layers-stock-gru']!.maxAbsDiff ?? 0)).toExponential(1)}), timed for reference: ` +
        stock
          .map((r) => {
            const s = r.impls['tfjs-layers-stock-gru']!;
            return `${r.group} ${r.backend} ${fmtMs(s.summary!.medianMs)} (×${s.speedup?.toFixed(2)} vs rnnkit)`;
          })
          .join(', ') +
        '.',
    );
  }
  const cold = results.flatMap((r) =>
    Object.entries(r.impls)
      .filter(([, v]) => v?.cold && v.summary)
      .map(([k, v]) => `${k} on ${r.id} ${r.backend} (${fmtMs(v!.summary!.medianMs)})`),
  );
  if (cold.length > 0) {
    n.push(`Too slow to repeat, one cold run only: ${cold.join(', ')}.`);
  }
  const leaks = results.flatMap((r) =>
    Object.entries(r.impls)
      .filter(([, v]) => (v?.leakedTensors ?? 0) !== 0)
      .map(([k, v]) => `${k} on ${r.id} ${r.backend}: ${v!.leakedTensors}`),
  );
  if (leaks.length > 0) n.push(`Tensors left behind over the timed calls: ${leaks.join(', ')}.`);
  return n;
}
