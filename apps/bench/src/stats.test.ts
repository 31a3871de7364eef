import { describe, expect, it } from 'vitest';
import { ALL_CASES, selectCases } from './cases.js';
import {
  keepWarming,
  maxAbsDiff,
  POLICIES,
  planReps,
  planSamples,
  randomArray,
  summarize,
  warmEstimate,
} from './stats.js';

const policy = POLICIES.full;

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

  it('batches fast calls into samples of at least minSampleMs, within the call budget', () => {
    // 0.16 ms: 63 calls (10.08 ms) per sample, 25 samples (the cap) of them.
    expect(planSamples(0.16, policy)).toEqual({ samples: 25, batch: 63 });
    expect(planSamples(0.5, policy)).toEqual({ samples: 25, batch: 20 });
    expect(planSamples(4, policy)).toEqual({ samples: 25, batch: 3 });
    // From minSampleMs on, a sample is one call, and the budget decides as before.
    expect(planSamples(10, policy)).toEqual({ samples: 25, batch: 1 });
    expect(planSamples(200, policy)).toEqual({ samples: 10, batch: 1 });
    expect(planSamples(5000, policy)).toEqual({ samples: 2, batch: 1 });
    // A budget too small for maxReps samples: fewer samples, the batch unchanged.
    expect(planSamples(0.5, { ...policy, budgetMs: 50 })).toEqual({ samples: 5, batch: 20 });
    // maxBatch caps the batch; a zero estimate does not divide by zero.
    expect(planSamples(0.001, policy)).toEqual({ samples: 25, batch: 1000 });
    expect(planSamples(0, { ...policy, maxBatch: 7 })).toEqual({ samples: 25, batch: 7 });
  });

  it('warms up until warmupMs has passed after the first call, or maxWarmupCalls', () => {
    expect(keepWarming([], policy)).toBe(true);
    // Always one warm call after the first, however long the first took ...
    expect(keepWarming([900], policy)).toBe(true);
    // ... unless the first took half the budget or more.
    expect(keepWarming([1000], policy)).toBe(false);
    // The first call does not count towards warmupMs.
    expect(keepWarming([300, 100, 100], policy)).toBe(true);
    expect(keepWarming([300, 100, 150], policy)).toBe(false);
    expect(keepWarming([5, 600], policy)).toBe(false);
    expect(keepWarming(new Array(1999).fill(0.1), policy)).toBe(true);
    expect(keepWarming(new Array(2000).fill(0.1), policy)).toBe(false);
  });

  it('estimates a warm call by the median of the last ten warm-up calls', () => {
    expect(warmEstimate([42])).toBe(42);
    expect(warmEstimate([42, 7])).toBe(7);
    expect(warmEstimate([50, 3, 1, 2])).toBe(2); // the cold first call left out
    // Only the last ten: the early, slower calls do not count; a GC pause does not move it.
    expect(warmEstimate([50, 9, 9, 9, 9, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1, 30])).toBe(1);
    expect(() => warmEstimate([])).toThrow(RangeError);
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
    expect(ALL_CASES.map((c) => c.id)).toHaveLength(15);
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
