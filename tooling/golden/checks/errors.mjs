// The worst errors of one fixture's check, in runFixture's result format.
import { compare } from '../fixtures.mjs';

const fmt = (a) => `[${Array.from(a).join(',')}]`;

/**
 * An accumulator for one check: `forward` (absolute, or 'rel' for values whose scale varies) and
 * `grad` (relative to max(1, max |expected|)) keep the worst error and where it occurred;
 * `value` does the same for a plain number; `same` requires integer results (indices, tokens,
 * batch sizes) to be equal, and throws naming what differed. `result` is what checks return.
 */
export function errors() {
  const result = { forward: 0, forwardAt: '', grad: 0, gradAt: '' };
  const worse = (kind, at, e) => {
    const err = Number.isNaN(e) ? Number.POSITIVE_INFINITY : e;
    if (err > result[kind]) [result[kind], result[`${kind}At`]] = [err, at];
  };
  return {
    result,
    forward: (at, got, want, kind = 'abs') => worse('forward', at, compare(got, want)[kind]),
    grad: (at, got, want) => worse('grad', at, compare(got, want).rel),
    /** Numbers: |got - want| / max(1, |want|); equal non-finite values (Infinity, NaN) count as 0. */
    value: (at, got, want) =>
      worse(
        'forward',
        at,
        Object.is(got, want) ? 0 : Math.abs(got - want) / Math.max(1, Math.abs(want)),
      ),
    same: (at, got, want) => {
      if (fmt(got) !== fmt(want)) throw new Error(`${at}: got ${fmt(got)}, expected ${fmt(want)}`);
    },
  };
}

/** The tensors under `prefix` (`param.`, `input.`, ...), keyed without it. */
export const pick = (t, prefix) =>
  Object.fromEntries(
    Object.entries(t)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
