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
  /** Time to spend on the timed repetitions of one implementation in one case (ms). */
  budgetMs: number;
  /** At least this many timed calls ... */
  minReps: number;
  /** ... unless they would take longer than this (ms): then as many as fit, at least one. */
  slowBudgetMs: number;
  maxReps: number;
}

/**
 * How many timed repetitions fit the budget, given the time of one warm call: many for fast
 * calls, `minReps` for slow ones, fewer (down to one) for calls too slow to repeat.
 */
export function planReps(estimateMs: number, p: RepPolicy): number {
  const est = Math.max(estimateMs, 1e-3);
  const atLeast = Math.max(1, Math.min(p.minReps, Math.floor(p.slowBudgetMs / est)));
  return Math.max(atLeast, Math.min(p.maxReps, Math.floor(p.budgetMs / est)));
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
