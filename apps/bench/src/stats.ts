/** Order statistics of a list of timings (ms). */
export interface Summary {
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** First and third quartiles (linear interpolation). */
  q1Ms: number;
  q3Ms: number;
  reps: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 1) return sorted[0];
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(samples: number[]): Summary {
  if (samples.length === 0)
    throw new RangeError('summarize(samples): expected at least one sample');
  const s = [...samples].sort((a, b) => a - b);
  return {
    medianMs: quantile(s, 0.5),
    minMs: s[0],
    maxMs: s[s.length - 1],
    q1Ms: quantile(s, 0.25),
    q3Ms: quantile(s, 0.75),
    reps: s.length,
  };
}

export interface RepPolicy {
  /** Time to spend on the timed calls of one implementation in one case (ms). */
  budgetMs: number;
  /** At least this many samples ... */
  minReps: number;
  /** ... unless they would take longer than this (ms): then as many as fit, at least one. */
  slowBudgetMs: number;
  /** At most this many samples. */
  maxReps: number;
  /** Warm-up: after the first (checked) call, keep calling until this much time has passed (ms) ... */
  warmupMs: number;
  /** ... or this many warm-up calls were made (the first one included). */
  maxWarmupCalls: number;
  /** A sample times consecutive calls until it lasts at least this long (ms) ... */
  minSampleMs: number;
  /** ... but at most this many calls. */
  maxBatch: number;
}

/** The policies of a full run and of `--quick` (the CI smoke run); `--budget` overrides budgetMs. */
export const POLICIES: Record<'full' | 'quick', RepPolicy> = {
  full: {
    budgetMs: 2000,
    minReps: 3,
    slowBudgetMs: 12_000,
    maxReps: 25,
    warmupMs: 250,
    maxWarmupCalls: 2000,
    minSampleMs: 10,
    maxBatch: 1000,
  },
  quick: {
    budgetMs: 300,
    minReps: 2,
    slowBudgetMs: 2000,
    maxReps: 5,
    warmupMs: 50,
    maxWarmupCalls: 500,
    minSampleMs: 2,
    maxBatch: 1000,
  },
};

/**
 * How many timed samples fit the budget, given the time of one sample: many for fast samples,
 * `minReps` for slow ones, fewer (down to one) for samples too slow to repeat.
 */
export function planReps(
  sampleMs: number,
  p: Pick<RepPolicy, 'budgetMs' | 'minReps' | 'slowBudgetMs' | 'maxReps'>,
): number {
  const est = Math.max(sampleMs, 1e-3);
  const atLeast = Math.max(1, Math.min(p.minReps, Math.floor(p.slowBudgetMs / est)));
  return Math.max(atLeast, Math.min(p.maxReps, Math.floor(p.budgetMs / est)));
}

/** How a contender is timed: `samples` samples of `batch` consecutive calls each. */
export interface SamplePlan {
  samples: number;
  /** Calls per sample; each sample records its total time / batch. */
  batch: number;
}

/**
 * Samples of one call when a warm call takes at least `minSampleMs`; else of
 * ceil(minSampleMs / estimate) calls (at most `maxBatch`), so that timer resolution, a GC pause
 * or one slow call weigh little in a sample. The budget counts calls: samples × batch × estimate
 * stays within `budgetMs` (or the `minReps` rule of {@link planReps}).
 */
export function planSamples(estimateMs: number, p: RepPolicy): SamplePlan {
  const est = Math.max(estimateMs, 1e-3);
  const batch =
    est >= p.minSampleMs ? 1 : Math.max(1, Math.min(p.maxBatch, Math.ceil(p.minSampleMs / est)));
  return { samples: planReps(est * batch, p), batch };
}

/**
 * Whether to make another warm-up call, given the calls made so far (the first one included):
 * none after a first call over half the budget (too slow to spend more on), else at least one,
 * then more until `warmupMs` has passed after the first call, at most `maxWarmupCalls` in all.
 */
export function keepWarming(warmupMs: readonly number[], p: RepPolicy): boolean {
  if (warmupMs.length === 0) return true;
  if (warmupMs[0] * 2 >= p.budgetMs || warmupMs.length >= p.maxWarmupCalls) return false;
  if (warmupMs.length === 1) return true;
  let after = 0; // the warm-up time after the first call, which pays for compiling and setup
  for (let i = 1; i < warmupMs.length; i++) after += warmupMs[i];
  return after < p.warmupMs;
}

/**
 * The time of one warm call, from the warm-up calls (the first one included): the median of the
 * last ten after the first, robust to a GC pause; the first one when there is no other.
 */
export function warmEstimate(warmupMs: readonly number[]): number {
  if (warmupMs.length === 0)
    throw new RangeError('warmEstimate(warmupMs): expected at least one call');
  if (warmupMs.length === 1) return warmupMs[0];
  return summarize(warmupMs.slice(Math.max(1, warmupMs.length - 10))).medianMs;
}

/** Deterministic uniform(-1, 1) floats (mulberry32), so every implementation gets the same input. */
export function randomArray(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) {
      if (Number.isNaN(d)) return Number.POSITIVE_INFINITY; // NaN is a mismatch
      m = d;
    }
  }
  return m;
}
