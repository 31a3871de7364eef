import { adapters, listFixtures, readFixture, runFixture } from '@rnnkit/golden';
import { loadSafetensors, safetensorsMetadata } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GRU } from './gru.js';
import { LSTM } from './lstm.js';
import { RNN } from './rnn.js';

const kinds = adapters({ RNN, LSTM, GRU });

describe('PyTorch parity: torch.nn.RNN / LSTM / GRU fixtures (forward and BPTT gradients)', () => {
  for (const name of listFixtures('rnn')) {
    it(name, () => {
      const bytes = readFixture('rnn', name);
      const config = JSON.parse(safetensorsMetadata(bytes).config);
      const tensors = loadSafetensors(bytes);
      const before = tf.memory().numTensors;
      const r = runFixture(tensors, config, kinds[config.kind]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose(Object.values(tensors));
      expect(r.forward, `forward error at ${r.forwardAt}`).toBeLessThanOrEqual(1e-5);
      expect(r.grad, `gradient error at ${r.gradAt}`).toBeLessThanOrEqual(1e-4);
    });
  }
});
