import { adapters, checkFixture, listFixtures } from '@rnnkit/golden';
import { loadSafetensors, safetensorsMetadata } from '@rnnkit/ops';
import { describe, expect, it } from 'vitest';
import { Attention } from './attention.js';
import { Seq2Seq } from './seq2seq.js';

const kinds = adapters({ Attention, Seq2Seq });
const names = listFixtures('seq2seq').filter((n) => !n.startsWith('decode_'));

describe('PyTorch parity: Attention and Seq2Seq fixtures (forward and gradients of every parameter)', () => {
  it('covers every attention mode on all steps and one step, every cell and input feeding', () => {
    for (const mode of ['dot', 'general', 'concat', 'additive']) {
      expect(names).toContain(`attention_${mode}_ragged_steps`);
      expect(names).toContain(`attention_${mode}_full_step`);
    }
    for (const cell of ['lstm', 'gru', 'rnn'])
      expect(names.some((n) => n.startsWith(`seq2seq_${cell}`))).toBe(true);
    expect(names.filter((n) => n.endsWith('_feed')).length).toBe(2);
  });

  for (const name of names) {
    it(name, () => {
      const r = checkFixture('seq2seq', name, kinds, { loadSafetensors, safetensorsMetadata });
      expect(r.leaked, 'tensors leaked').toBe(0);
      expect(r.forward, `forward error at ${r.forwardAt}`).toBeLessThanOrEqual(1e-5);
      expect(r.grad, `gradient error at ${r.gradAt}`).toBeLessThanOrEqual(1e-4);
    });
  }
});
