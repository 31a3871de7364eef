import { describe, expect, it } from 'vitest';
import { epochLr } from './train.js';

describe('epochLr', () => {
  it('keeps lr for decayAfter epochs, then multiplies it by decay each epoch', () => {
    const r = { lr: 0.002, decayAfter: 3, decay: 0.5 };
    expect([0, 1, 2, 3, 4, 5, 6].map((e) => epochLr(r, e))).toEqual([
      0.002, 0.002, 0.002, 0.001, 0.0005, 0.00025, 0.000125,
    ]);
    expect(epochLr({ ...r, decayAfter: 0 }, 0)).toBe(0.001);
  });
});
