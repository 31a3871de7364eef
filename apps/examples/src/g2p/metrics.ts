// Word and phoneme error rates against several references. Browser-safe.

/** Levenshtein distance between two sequences (unit costs). */
export function editDistance<T>(a: readonly T[], b: readonly T[]): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

export interface ErrorRates {
  /** Words whose hypothesis matches none of their references, over all words. */
  wer: number;
  /** Sum over words of the edit distance to the closest reference, over the sum of those references' lengths. */
  per: number;
  words: number;
}

/**
 * WER and PER of hypotheses against references (several per word: any one may match). The closest
 * reference of a word is the one at the smallest edit distance (the first among equals).
 */
export function errorRates(hyps: readonly string[][], refs: readonly string[][][]): ErrorRates {
  let wrong = 0;
  let dist = 0;
  let len = 0;
  hyps.forEach((h, i) => {
    let best = Number.POSITIVE_INFINITY;
    let bestLen = 0;
    for (const r of refs[i]) {
      const d = editDistance(h, r);
      if (d < best) [best, bestLen] = [d, r.length];
    }
    if (best > 0) wrong++;
    dist += best;
    len += bestLen;
  });
  return {
    wer: hyps.length ? wrong / hyps.length : 0,
    per: len ? dist / len : 0,
    words: hyps.length,
  };
}
