import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElmanRNN } from '@rnnkit/cell';
import { adapters, compare } from '@rnnkit/golden';
import { Linear, loadSafetensors, safetensorsMetadata } from '@rnnkit/ops';
import { GRU, LSTM, RNN } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { exportForPyTorch } from './export.js';

const kinds = adapters({ Linear, ElmanRNN, RNN, LSTM, GRU });

describe('export for PyTorch (--export)', () => {
  it('writes state dicts with PyTorch keys, inputs and outputs that reload into fresh modules exactly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnkit-export-'));
    const paths = exportForPyTorch(dir, 3);
    expect(paths.map((p) => p.slice(dir.length + 1))).toEqual([
      'linear.safetensors',
      'myrnn_tutorial.safetensors',
      'rnn_l2_bi_ragged.safetensors',
      'lstm_proj_l2.safetensors',
      'gru_l3_bi.safetensors',
    ]);
    for (const path of paths) {
      const bytes = new Uint8Array(readFileSync(path));
      const meta = safetensorsMetadata(bytes);
      expect(meta.producer).toBe('rnnkit');
      const config = JSON.parse(meta.config);
      const t = loadSafetensors(bytes);
      const adapter = kinds[config.kind];
      const m = adapter.build(config);
      const sd = Object.fromEntries(
        Object.entries(t)
          .filter(([k]) => k.startsWith('param.'))
          .map(([k, v]) => [k.slice(6), v]),
      );
      if (config.kind === 'ElmanRNN')
        expect(Object.keys(sd).sort()).toEqual([
          'linear1.bias',
          'linear1.weight',
          'linear2.bias',
          'linear2.weight',
        ]);
      m.loadStateDict(sd);
      const inputs = Object.fromEntries(
        Object.entries(t)
          .filter(([k]) => k.startsWith('input.'))
          .map(([k, v]) => [k.slice(6), v]),
      );
      const outs = adapter.run(m, inputs, config);
      for (const [k, v] of Object.entries(outs))
        expect(compare(v, t[`output.${k}`]).abs, `${path} ${k}`).toBe(0);
      tf.dispose([...Object.values(outs), ...Object.values(t)]);
      m.dispose();
    }
  });
});
