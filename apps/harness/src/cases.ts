import { ElmanRNN, GRUCell, LSTMCell, RNNCell } from '@rnnkit/cell';
import { pool, SequenceEncoder } from '@rnnkit/heads';
import { GRU, LSTM, RNN } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';

/** What a case produces: a shape, or a count (e.g. how many things a call returns). */
export type Got = number[] | number;

export interface ShapeCase {
  /** Unique, dotted: "tutorial.myrnn.hidden_states" */
  name: string;
  /** What the tutorial (or PyTorch) says, in its words. */
  source: string;
  expected: Got;
  /** Runs rnnkit's public API and returns what it produced (tensors are disposed by the runner's tidy). */
  run(): Got;
}

// The tutorial's sizes: bs, seq_len, emb_size = 2, 10, 300; hidden_dim = 256.
const bs = 2;
const seqLen = 10;
const emb = 300;
const hidden = 256;

const rand = (shape: number[]) => tf.randomUniform(shape);
const shapeOf = (t: tf.Tensor) => [...t.shape];

/** Builds a module, runs fn on it, disposes it. */
function withModule<M extends { dispose(): void }, R>(m: M, fn: (m: M) => R): R {
  try {
    return fn(m);
  } finally {
    m.dispose();
  }
}

/** The shape of what `pick` takes from a fresh layer's forward(x), x of shape `input`. */
function layerShape<O>(
  layer: { forward(x: tf.Tensor): O; dispose(): void },
  pick: (out: O) => tf.Tensor,
  input = [bs, seqLen, emb],
): number[] {
  return withModule(layer, (m) => shapeOf(pick(m.forward(rand(input)))));
}

const tutorialRNN = () =>
  new RNN({ inputSize: emb, hiddenSize: hidden, numLayers: 1, batchFirst: true });
/** nn.RNN(300, 256): PyTorch's defaults (one layer, not batch first). */
const torchDefaultRNN = () => new RNN({ inputSize: emb, hiddenSize: hidden });
const biRNN = () =>
  new RNN({
    inputSize: emb,
    hiddenSize: hidden,
    numLayers: 2,
    bidirectional: true,
    batchFirst: true,
  });
const myRNN = () => new ElmanRNN({ inputDim: emb, hiddenSize: hidden, outputDim: 1 });

/** Every shape the tutorial prints or states, plus the layouts PyTorch defines around them. */
export const CASES: ShapeCase[] = [
  {
    name: 'tutorial.xt',
    source: 'xt = torch.rand((bs, seq_len, emb_size)); xt.shape',
    expected: [2, 10, 300],
    run: () => shapeOf(rand([bs, seqLen, emb])),
  },
  {
    name: 'tutorial.h0',
    source: 'h0 = torch.rand((bs, hidden_dim)); h0.shape',
    expected: [2, 256],
    run: () => shapeOf(rand([bs, hidden])),
  },
  {
    name: 'tutorial.myrnn.hidden_states',
    source:
      'hidden_states, h, predictions = MyRNN(emb_size, hidden_dim, 1)(xt, h0); hidden_states.shape',
    expected: [2, 10, 256],
    run: () =>
      withModule(myRNN(), (m) =>
        shapeOf(m.forward(rand([bs, seqLen, emb]), rand([bs, hidden])).hiddenStates),
      ),
  },
  {
    name: 'tutorial.myrnn.h',
    source: 'MyRNN: h.shape (last hidden state)',
    expected: [2, 256],
    run: () =>
      withModule(myRNN(), (m) => shapeOf(m.forward(rand([bs, seqLen, emb]), rand([bs, hidden])).h)),
  },
  {
    name: 'tutorial.myrnn.predictions',
    source: 'MyRNN: predictions.shape (output_dim = 1)',
    expected: [2, 10, 1],
    run: () =>
      withModule(myRNN(), (m) =>
        shapeOf(m.forward(rand([bs, seqLen, emb]), rand([bs, hidden])).predictions),
      ),
  },
  {
    name: 'tutorial.nn_rnn.returns',
    source: 'rnn = nn.RNN(emb_size, hidden_dim, 1, batch_first=True); len(rnn(xt))',
    expected: 2,
    run: () => withModule(tutorialRNN(), (m) => m.forward(rand([bs, seqLen, emb])).length),
  },
  {
    name: 'tutorial.nn_rnn.output',
    source: 'output[0].shape (batch_first: BS, seq_len, hidden)',
    expected: [2, 10, 256],
    run: () => layerShape(tutorialRNN(), (o) => o[0]),
  },
  {
    name: 'tutorial.nn_rnn.h_n',
    source: 'output[1].shape (num_layers*D, BS, hidden)',
    expected: [1, 2, 256],
    run: () => layerShape(tutorialRNN(), (o) => o[1]),
  },
  {
    name: 'tutorial.nn_rnn.not_batch_first',
    source: '#not batch first = seq_len, BS, embedding: output.shape',
    expected: [10, 2, 256],
    run: () => layerShape(torchDefaultRNN(), (o) => o[0], [seqLen, bs, emb]),
  },
  {
    name: 'tutorial.pooling.case1',
    source: 'bs, seq_len, emb_size = 2,256,300; case1: Pooling features -> 2, 300',
    expected: [2, 300],
    run: () => shapeOf(pool(rand([2, 256, 300]), 'mean')),
  },
  {
    name: 'tutorial.pooling.case2',
    source: 'case2: No Pooling -> 2, 256*300',
    expected: [2, 76800],
    run: () => shapeOf(pool(rand([2, 256, 300]), 'flatten')),
  },
  ...(['max', 'sum', 'first', 'last'] as const).map((mode) => ({
    name: `pooling.${mode}`,
    source: `pool([2,256,300], '${mode}', lengths [256, 100])`,
    expected: [2, 300],
    run: () => shapeOf(pool(rand([2, 256, 300]), mode, { lengths: [256, 100] })),
  })),
  {
    name: 'tutorial.encoder.seq',
    source: 'f((bs, seq_len, emb_size)) -> (bs, seq_len, emb_size)',
    expected: [2, 256, 300],
    run: () =>
      withModule(
        new SequenceEncoder({
          inputSize: emb,
          cell: 'rnn',
          hiddenSize: hidden,
          pooling: 'none',
          outputSize: emb,
        }),
        (m) => shapeOf(m.forward(rand([2, 256, emb]))),
      ),
  },
  {
    name: 'tutorial.encoder.sentence',
    source: 'f((bs, seq_len, emb_size)) -> (bs, sent_emb), sent_emb = 128',
    expected: [2, 128],
    run: () =>
      withModule(
        new SequenceEncoder({
          inputSize: emb,
          cell: 'gru',
          hiddenSize: hidden,
          pooling: 'attention',
          outputSize: 128,
        }),
        (m) => shapeOf(m.forward(rand([2, 256, emb]), { lengths: [256, 180] })),
      ),
  },
  {
    name: 'encoder.tokens',
    source:
      'Embedding(1000, 300, padding_idx=0) -> bi-LSTM -> mean -> Linear(512, 2) on ids [2, 10]',
    expected: [2, 2],
    run: () =>
      withModule(
        new SequenceEncoder({
          vocabSize: 1000,
          embeddingDim: emb,
          paddingIdx: 0,
          cell: 'lstm',
          hiddenSize: hidden,
          bidirectional: true,
          pooling: 'mean',
          outputSize: 2,
        }),
        (m) =>
          shapeOf(
            m.forward(
              tf.tensor2d(
                [
                  [5, 9, 3, 0, 0, 0, 0, 0, 0, 0],
                  [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
                ],
                undefined,
                'int32',
              ),
              { lengths: [3, 10] },
            ),
          ),
      ),
  },
  {
    name: 'nn_rnn.multilayer.h_n',
    source: 'nn.RNN(300, 256, num_layers=3, batch_first=True): h_n.shape = (L*D, B, H)',
    expected: [3, 2, 256],
    run: () =>
      layerShape(
        new RNN({ inputSize: emb, hiddenSize: hidden, numLayers: 3, batchFirst: true }),
        (o) => o[1],
      ),
  },
  {
    name: 'nn_rnn.bidirectional.output',
    source:
      'nn.RNN(300, 256, num_layers=2, bidirectional=True, batch_first=True): output.shape = (B, T, D*H)',
    expected: [2, 10, 512],
    run: () => layerShape(biRNN(), (o) => o[0]),
  },
  {
    name: 'nn_rnn.bidirectional.h_n',
    source: 'same: h_n.shape = (L*D, B, H)',
    expected: [4, 2, 256],
    run: () => layerShape(biRNN(), (o) => o[1]),
  },
  {
    name: 'nn_rnn.unbatched',
    source: 'nn.RNN(300, 256) on x of shape (seq_len, emb): output.shape = (T, H)',
    expected: [10, 256],
    run: () => layerShape(torchDefaultRNN(), (o) => o[0], [seqLen, emb]),
  },
  {
    name: 'nn_rnn.unbatched.h_n',
    source: 'same: h_n.shape = (L*D, H)',
    expected: [1, 256],
    run: () => layerShape(torchDefaultRNN(), (o) => o[1], [seqLen, emb]),
  },
  {
    name: 'nn_lstm.c_n',
    source: 'nn.LSTM(300, 256, num_layers=2, batch_first=True): c_n.shape',
    expected: [2, 2, 256],
    run: () =>
      layerShape(
        new LSTM({ inputSize: emb, hiddenSize: hidden, numLayers: 2, batchFirst: true }),
        (o) => o[1][1],
      ),
  },
  {
    name: 'nn_lstm.proj.h_n',
    source: 'nn.LSTM(300, 256, proj_size=64, batch_first=True): h_n.shape = (L*D, B, proj)',
    expected: [1, 2, 64],
    run: () =>
      layerShape(
        new LSTM({ inputSize: emb, hiddenSize: hidden, projSize: 64, batchFirst: true }),
        (o) => o[1][0],
      ),
  },
  {
    name: 'nn_gru.output',
    source: 'nn.GRU(300, 256, batch_first=True, bidirectional=True): output.shape',
    expected: [2, 10, 512],
    run: () =>
      layerShape(
        new GRU({ inputSize: emb, hiddenSize: hidden, batchFirst: true, bidirectional: true }),
        (o) => o[0],
      ),
  },
  {
    name: 'cells.rnn_cell',
    source: 'nn.RNNCell(300, 256)(x[:, 0], h0).shape',
    expected: [2, 256],
    run: () =>
      withModule(new RNNCell({ inputSize: emb, hiddenSize: hidden }), (m) =>
        shapeOf(m.forward(rand([bs, emb]), rand([bs, hidden]))),
      ),
  },
  {
    name: 'cells.lstm_cell.unbatched',
    source: 'nn.LSTMCell(300, 256)(x[0, 0])[1].shape (unbatched)',
    expected: [256],
    run: () =>
      withModule(new LSTMCell({ inputSize: emb, hiddenSize: hidden }), (m) =>
        shapeOf(m.forward(rand([emb]))[1]),
      ),
  },
  {
    name: 'cells.gru_cell',
    source: 'nn.GRUCell(300, 256)(x[:, 0]).shape',
    expected: [2, 256],
    run: () =>
      withModule(new GRUCell({ inputSize: emb, hiddenSize: hidden }), (m) =>
        shapeOf(m.forward(rand([bs, emb]))),
      ),
  },
];
