// Runs a PyTorch fixture through rnnkit's public API and measures the worst forward and gradient
// error. Module classes are passed in (tooling depends on no package), so unit tests and the
// harness share this one runner.
import * as tf from '@tensorflow/tfjs-core';
import { pick } from './checks/errors.mjs';
import { compare, readFixture } from './fixtures.mjs';

/**
 * What each fixture kind builds and how it is called; `classes` holds the rnnkit classes (and the
 * `pool` function) by name. Only kinds whose class or function is given are returned, so a caller
 * can test `kind in adapters(...)`. A kind without a module (`pool`) builds `null`.
 */
export function adapters(classes) {
  const all = allAdapters(classes);
  return Object.fromEntries(Object.entries(all).filter(([kind]) => classes[kind] !== undefined));
}

/**
 * A cell fed `config.steps` times (@default 1) with the same input and its own state, as
 * PyTorch's test_RNN_cell / test_LSTM_cell (fixtures/port); intermediate states are disposed.
 */
function steps(config, state, step) {
  let s = state;
  for (let k = 0; k < (config.steps ?? 1); k++) {
    const next = step(s);
    if (k > 0) tf.dispose(s);
    s = next;
  }
  return s;
}

function allAdapters(classes) {
  const recurrentOpts = (c) => ({
    inputSize: c.inputSize,
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers,
    bias: c.bias,
    batchFirst: c.batchFirst,
    bidirectional: c.bidirectional,
  });
  const lengthsOpt = (c) => (c.lengths ? { lengths: c.lengths } : undefined);
  return {
    Linear: {
      build: (c) => new classes.Linear(c.inFeatures, c.outFeatures, { bias: c.bias }),
      run: (m, i) => ({ y: m.forward(i.x) }),
    },
    Embedding: {
      build: (c) =>
        new classes.Embedding(
          c.numEmbeddings,
          c.embeddingDim,
          c.paddingIdx === null ? {} : { paddingIdx: c.paddingIdx },
        ),
      run: (m, i) => ({ y: m.forward(i.ids) }),
    },
    RNNCell: {
      build: (c) =>
        new classes.RNNCell({
          inputSize: c.inputSize,
          hiddenSize: c.hiddenSize,
          bias: c.bias,
          nonlinearity: c.nonlinearity,
        }),
      run: (m, i, c) => ({ h: steps(c, i.h0, (h) => m.forward(i.x, h)) }),
    },
    GRUCell: {
      build: (c) =>
        new classes.GRUCell({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, bias: c.bias }),
      run: (m, i, c) => ({ h: steps(c, i.h0, (h) => m.forward(i.x, h)) }),
    },
    LSTMCell: {
      build: (c) =>
        new classes.LSTMCell({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, bias: c.bias }),
      run: (m, i, c) => {
        const [h, cc] = steps(c, i.h0 ? [i.h0, i.c0] : undefined, (s) => m.forward(i.x, s));
        return { h, c: cc };
      },
    },
    ElmanRNN: {
      build: (c) =>
        new classes.ElmanRNN({
          inputDim: c.inputDim,
          hiddenSize: c.hiddenSize,
          outputDim: c.outputDim,
          activation: c.activation,
        }),
      run: (m, i) => {
        const { hiddenStates, h, predictions } = m.forward(i.xt, i.h0);
        return { hidden_states: hiddenStates, h, predictions };
      },
    },
    RNN: {
      build: (c) => new classes.RNN({ ...recurrentOpts(c), nonlinearity: c.nonlinearity }),
      run: (m, i, c) => {
        const [output, h_n] = m.forward(i.x, i.h0, lengthsOpt(c));
        return { output, h_n };
      },
    },
    GRU: {
      build: (c) => new classes.GRU(recurrentOpts(c)),
      run: (m, i, c) => {
        const [output, h_n] = m.forward(i.x, i.h0, lengthsOpt(c));
        return { output, h_n };
      },
    },
    LSTM: {
      build: (c) => new classes.LSTM({ ...recurrentOpts(c), projSize: c.projSize }),
      run: (m, i, c) => {
        const [output, [h_n, c_n]] = m.forward(i.x, i.h0 ? [i.h0, i.c0] : undefined, lengthsOpt(c));
        return { output, h_n, c_n };
      },
    },
    pool: {
      build: () => null,
      run: (_, i, c) => ({ y: classes.pool(i.x, c.mode, lengthsOpt(c)) }),
    },
    AttentionPooling: {
      build: (c) => new classes.AttentionPooling({ inputSize: c.inputSize }),
      run: (m, i, c) => ({ y: m.forward(i.x, lengthsOpt(c)) }),
    },
    SequenceEncoder: {
      // config = the SequenceEncoderOptions (null when not given) + kind + lengths
      build: ({ kind, lengths, ...opts }) =>
        new classes.SequenceEncoder(
          Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== null)),
        ),
      run: (m, i, c) => ({ y: m.forward(i.ids ?? i.x, lengthsOpt(c)) }),
    },
    Attention: {
      build: (c) =>
        new classes.Attention({
          querySize: c.querySize,
          keySize: c.keySize,
          mode: c.mode,
          ...(c.attentionSize === null ? {} : { attentionSize: c.attentionSize }),
        }),
      run: (m, i, c) => {
        const { context, weights } = m.forward(i.query, i.keys, lengthsOpt(c));
        return { context, weights };
      },
    },
    Seq2Seq: {
      // config = the Seq2SeqOptions + kind + lengths (the source lengths)
      build: ({ kind, lengths, ...opts }) => new classes.Seq2Seq(opts),
      run: (m, i, c) => ({ logits: m.forward(i.src, c.lengths, i.tgt_in) }),
    },
  };
}

/**
 * Loads the fixture's params into a fresh module, runs it, and differentiates
 * sum(output * lossweight) w.r.t. every parameter and float input. Returns the worst absolute
 * forward error and the worst gradient error relative to each gradient's scale (max |g|, at least 1),
 * with the names where they occurred. Disposes everything it made. When `adapter.build` returns
 * null (a function such as `pool`), the fixture must have no parameters.
 */
export function runFixture(tensors, config, adapter) {
  const module = adapter.build(config);
  try {
    const stateDict = pick(tensors, 'param.');
    if (module) module.loadStateDict(stateDict);
    else if (Object.keys(stateDict).length)
      throw new Error(`kind ${config.kind} has no module but the fixture has param.* tensors`);
    const inputs = pick(tensors, 'input.');
    const expected = pick(tensors, 'output.');
    const weights = pick(tensors, 'lossweight.');
    const result = { forward: 0, forwardAt: '', grad: 0, gradAt: '', outputs: {} };
    const outs = adapter.run(module, inputs, config);
    for (const [k, v] of Object.entries(outs)) {
      result.outputs[k] = v.shape;
      const { abs } = compare(v, expected[k]);
      if (!(abs <= result.forward)) [result.forward, result.forwardAt] = [abs, k];
    }
    tf.dispose(Object.values(outs));
    const floatInputs = Object.entries(inputs).filter(
      ([k, v]) => v.dtype === 'float32' && `grad.input.${k}` in tensors,
    );
    const params = module ? module.namedParameters() : [];
    const loss = (...xs) =>
      tf.tidy(() => {
        const given = { ...inputs, ...Object.fromEntries(floatInputs.map(([k], j) => [k, xs[j]])) };
        const o = adapter.run(module, given, config);
        return tf.addN(Object.entries(weights).map(([k, w]) => tf.sum(tf.mul(o[k], w))));
      });
    const { grads: inputGrads, value } = floatInputs.length
      ? tf.valueAndGrads(loss)(floatInputs.map(([, v]) => v))
      : { grads: [], value: loss() };
    const { grads: paramGrads, value: v2 } = params.length
      ? tf.variableGrads(
          () => loss(...floatInputs.map(([, v]) => v)),
          params.map(([, p]) => p),
        )
      : { grads: {}, value: null };
    const check = (name, got, want) => {
      const { rel } = compare(got, want);
      if (!(rel <= result.grad)) [result.grad, result.gradAt] = [rel, name];
    };
    floatInputs.forEach(([k], j) => {
      check(`input.${k}`, inputGrads[j], tensors[`grad.input.${k}`]);
    });
    for (const [k, p] of params)
      check(`param.${k}`, paramGrads[p.name], tensors[`grad.param.${k}`]);
    tf.dispose([value, v2, ...inputGrads, ...Object.values(paramGrads)]);
    return result;
  } finally {
    module?.dispose();
  }
}

/**
 * Reads fixtures/<group>/<name> with rnnkit's own safetensors reader (`codec`: loadSafetensors and
 * safetensorsMetadata from @rnnkit/ops), runs it through the adapter of its kind, and disposes it.
 * Returns runFixture's result plus the kind and how many tensors the run left behind.
 */
export function checkFixture(group, name, kinds, codec) {
  const bytes = readFixture(group, name);
  const config = JSON.parse(codec.safetensorsMetadata(bytes).config);
  const adapter = kinds[config.kind];
  if (!adapter) throw new Error(`${group}/${name}: no adapter for kind ${config.kind}`);
  const tensors = codec.loadSafetensors(bytes);
  try {
    const before = tf.memory().numTensors;
    const result = runFixture(tensors, config, adapter);
    return { ...result, kind: config.kind, leaked: tf.memory().numTensors - before };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
