import { adapters, listFixtures, readFixture, runFixture } from '@rnnkit/golden';
import { loadSafetensors, safetensorsMetadata } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GRUCell, LSTMCell, RNNCell } from './cells.js';
import { ElmanRNN } from './elman.js';

const kinds = adapters({ RNNCell, LSTMCell, GRUCell, ElmanRNN });

describe('PyTorch parity: cells and the tutorial MyRNN (forward and BPTT gradients)', () => {
  for (const name of listFixtures('cell')) {
    it(name, () => {
      const bytes = readFixture('cell', name);
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
