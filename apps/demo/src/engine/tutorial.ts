import { ElmanRNN } from '@rnnkit/cell';
import { getBackend, Linear, manualSeed } from '@rnnkit/ops';
import { CELL_KINDS, createLayer } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import { type CellType, checkCell, checkInt } from './options.js';
import { DataRng } from './rng.js';

export interface TutorialOptions {
  cell: CellType;
  /** bs (tutorial: 2) */
  batch?: number;
  /** seq_len (tutorial: 10) */
  seqLen?: number;
  /** emb_size (tutorial: 300) */
  inputSize?: number;
  /** hidden_dim (tutorial: 256) */
  hiddenSize?: number;
  seed?: number;
}

export interface TutorialShapes {
  /** xt: [B, T, I] */
  input: number[];
  /** h0 as passed (MyRNN: [B, H]); null when the layer starts from zeros (nn.RNN(xt)). */
  h0: number[] | null;
  /** MyRNN's hidden_states or nn.RNN's output: [B, T, H] */
  output: number[];
  /** MyRNN's h [B, H] or nn.RNN's h_n [1, B, H] */
  h: number[];
  /** LSTM's c_n [1, B, H] (else null) */
  c: number[] | null;
  /** [B, T, 1] */
  predictions: number[];
}

export interface TutorialResult {
  cell: CellType;
  backend: string;
  shapes: TutorialShapes;
  /** How many things the call returns (MyRNN: 3, nn.RNN/LSTM/GRU: 2), as the tutorial's len(rnn(xt)). */
  returns: number;
  /** The PyTorch code this reproduces, one line per step. */
  code: string[];
  /** The rnnkit code that ran, line for line with `code`. */
  rnnkitCode: string[];
  /** Hidden states of sequence 0, [T][H]: rows are time steps. */
  hiddenStates: number[][];
  /** Predictions, [B][T]. */
  predictions: number[][];
  ms: number;
}

/** Splits a flat row-major array into rows of `width`. */
function rows(data: Float32Array | Int32Array | Uint8Array, width: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < data.length; i += width) out.push(Array.from(data.subarray(i, i + width)));
  return out;
}

/**
 * Runs the tutorial's example: xt = torch.rand(bs, seq_len, emb_size), then MyRNN(xt, h0)
 * (h0 = torch.rand(bs, hidden_dim)) or nn.RNN/LSTM/GRU(batch_first=True)(xt) with a Linear(H, 1)
 * on every step for predictions. Returns the shapes, sequence 0's hidden states and the
 * predictions; leaves no tensors behind.
 */
export function tutorialExample(opts: TutorialOptions): TutorialResult {
  const cell = checkCell(opts.cell, 'tutorialExample({ cell })');
  const B = checkInt(opts.batch ?? 2, 'tutorialExample({ batch })', 1, 64);
  const T = checkInt(opts.seqLen ?? 10, 'tutorialExample({ seqLen })', 1, 1000);
  const E = checkInt(opts.inputSize ?? 300, 'tutorialExample({ inputSize })', 1, 4096);
  const H = checkInt(opts.hiddenSize ?? 256, 'tutorialExample({ hiddenSize })', 1, 4096);
  const seed = checkInt(opts.seed ?? 0, 'tutorialExample({ seed })', 0, 2 ** 32 - 1);
  const start = performance.now();
  manualSeed(seed);
  const rng = new DataRng(seed);
  const modules: Array<{ dispose(): void }> = [];
  let meta = {
    shapes: null as unknown as TutorialShapes,
    returns: 0,
    code: [] as string[],
    rnnkitCode: [] as string[],
  };
  try {
    const result = tf.tidy(() => {
      const xt = tf.tensor3d(rng.uniform(B * T * E), [B, T, E]);
      if (cell === 'myrnn') {
        const h0 = tf.tensor2d(rng.uniform(B * H), [B, H]);
        const rnn = new ElmanRNN({ inputDim: E, hiddenSize: H, outputDim: 1 });
        modules.push(rnn);
        const { hiddenStates, h, predictions } = rnn.forward(xt, h0);
        meta = {
          shapes: {
            input: [...xt.shape],
            h0: [...h0.shape],
            output: [...hiddenStates.shape],
            h: [...h.shape],
            c: null,
            predictions: [...predictions.shape],
          },
          returns: 3,
          code: [
            `xt = torch.rand((${B}, ${T}, ${E}))`,
            `h0 = torch.rand((${B}, ${H}))`,
            `rnn = MyRNN(${E}, ${H}, 1)`,
            'hidden_states, h, predictions = rnn(xt, h0)',
          ],
          rnnkitCode: [
            `const xt = tf.randomUniform([${B}, ${T}, ${E}]);`,
            `const h0 = tf.randomUniform([${B}, ${H}]);`,
            `const rnn = new ElmanRNN({ inputDim: ${E}, hiddenSize: ${H}, outputDim: 1 });`,
            'const { hiddenStates, h, predictions } = rnn.forward(xt, h0);',
          ],
        };
        return { states: hiddenStates, predictions };
      }
      const name = CELL_KINDS[cell].torchName;
      const rnn = createLayer(cell, {
        inputSize: E,
        hiddenSize: H,
        numLayers: 1,
        batchFirst: true,
      });
      const head = new Linear(H, 1);
      modules.push(rnn, head);
      const out = rnn.forward(xt);
      const [output, state] = out;
      const [hN, cN] = Array.isArray(state) ? state : [state, null];
      const predictions = head.forward(output);
      meta = {
        shapes: {
          input: [...xt.shape],
          h0: null,
          output: [...output.shape],
          h: [...hN.shape],
          c: cN ? [...cN.shape] : null,
          predictions: [...predictions.shape],
        },
        returns: out.length,
        code: [
          `xt = torch.rand((${B}, ${T}, ${E}))`,
          `rnn = torch.nn.${name}(input_size=${E}, hidden_size=${H}, num_layers=1, batch_first=True)`,
          `output, ${cell === 'lstm' ? '(h_n, c_n)' : 'h_n'} = rnn(xt)`,
          `predictions = torch.nn.Linear(${H}, 1)(output)`,
        ],
        rnnkitCode: [
          `const xt = tf.randomUniform([${B}, ${T}, ${E}]);`,
          `const rnn = new ${name}({ inputSize: ${E}, hiddenSize: ${H}, numLayers: 1, batchFirst: true });`,
          `const [output, ${cell === 'lstm' ? '[hN, cN]' : 'hN'}] = rnn.forward(xt);`,
          `const predictions = new Linear(${H}, 1).forward(output);`,
        ],
      };
      return { states: output, predictions };
    });
    try {
      const seq0 = tf.tidy(() => tf.slice(result.states, [0, 0, 0], [1, T, H]));
      const hidden = rows(seq0.dataSync(), H);
      seq0.dispose();
      const predictions = rows(result.predictions.dataSync(), T);
      return {
        cell,
        backend: getBackend(),
        ...meta,
        hiddenStates: hidden,
        predictions,
        ms: performance.now() - start,
      };
    } finally {
      tf.dispose([result.states, result.predictions]);
    }
  } finally {
    for (const m of modules) m.dispose();
  }
}
