import { adapters, listFixtures } from '@rnnkit/golden';
import { parityTests } from '@rnnkit/vitest-config/parity';
import { describe, expect, it } from 'vitest';
import { AttentionPooling } from './attention.js';
import { SequenceEncoder } from './encoder.js';
import { pool } from './pool.js';

const names = listFixtures('heads');

describe('PyTorch parity: pool(), AttentionPooling, SequenceEncoder fixtures (forward and gradients)', () => {
  it('covers every pooling mode (with and without lengths), attention and the three encoder paths', () => {
    const modes = ['mean', 'max', 'sum', 'first', 'last', 'flatten', 'none'];
    for (const m of modes) {
      expect(names).toContain(`pool_${m}_ragged`);
      expect(names).toContain(`pool_${m}_full`);
    }
    expect(names).toContain('attention_pooling_ragged');
    expect(names).toContain('attention_pooling_full');
    expect(names.filter((n) => n.startsWith('encoder_')).length).toBeGreaterThanOrEqual(3);
  });

  parityTests('heads', adapters({ pool, AttentionPooling, SequenceEncoder }), names);
});
