import { describe, expect, it } from 'vitest';
import { ALL_CASES, selectCases } from './cases.js';
import { maxAbsDiff, planReps, randomArray, summarize } from './stats.js';

describe('stats', () => {
  it('summarizes median, quartiles and range', () => {
    expect(summarize([5, 1, 3, 2, 4])).toEqual({
      medianMs: 3,
      minMs: 1,
      maxMs: 5,
      q1Ms: 2,
      q3Ms: 4,
      reps: 5,
    });
    expect(summarize([2, 4]).medianMs).toBe(3);
    expect(() => summarize([])).toThrow(RangeError);
  });

  it('plans more repetitions for fast calls, at least minReps for slow ones', () => {
    const p = { budgetMs: 1000, minReps: 3, slowBudgetMs: 12_000, maxReps: 30 };
    expect(planReps(1, p)).toBe(30);
    expect(planReps(100, p)).toBe(10);
    expect(planReps(1000, p)).toBe(3);
    expect(planReps(5000, p)).toBe(2);
    expect(planReps(30_000, p)).toBe(1);
  });

  it('max |diff| treats NaN and length mismatch as infinitely different', () => {
    expect(maxAbsDiff([1, 2], [1, 2.5])).toBe(0.5);
    expect(maxAbsDiff([Number.NaN, 2], [1, 2])).toBe(Number.POSITIVE_INFINITY);
    expect(maxAbsDiff([1], [1, 2])).toBe(Number.POSITIVE_INFINITY);
  });

  it('makes the same input for the same seed, in [-1, 1)', () => {
    const a = randomArray(1000, 9);
    expect(a).toEqual(randomArray(1000, 9));
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...a)).toBeLessThan(1);
  });
});

describe('cases', () => {
  it('has every cell in every group, and filters by id or shape', () => {
    expect(ALL_CASES.map((c) => c.id)).toHaveLength(12);
    expect(selectCases([], true).map((c) => c.id)).toEqual([
      'rnn.tutorial',
      'lstm.tutorial',
      'gru.tutorial',
    ]);
    expect(selectCases(['gru.large', '1,10000,32,64'], false).map((c) => c.id)).toEqual([
      'gru.large',
      'rnn.long',
      'lstm.long',
      'gru.long',
    ]);
    expect(selectCases(['train'], true)).toEqual([]);
  });
});
