import { initKernel } from '@rnnkit/cell';
import { type BackendName, setBackend } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import type { Got, ShapeCase } from './cases.js';

export interface CaseResult {
  name: string;
  backend: BackendName;
  expected: string;
  got: string;
  /** Worst numeric error (parity cases only). */
  maxError: number | null;
  /** How many PyTorch fixtures a parity check ran. */
  fixtures?: number;
  ms: number;
  ok: boolean;
  /** What differed, when not ok. */
  detail: string;
}

export const fmtGot = (g: Got): string => (Array.isArray(g) ? `[${g.join(',')}]` : String(g));

/** True when the case name contains any of the filters (no filters: every case). */
export function selected(name: string, filters: string[]): boolean {
  return filters.length === 0 || filters.some((f) => name.includes(f));
}

/**
 * Runs shape cases on one backend. `overrides` replaces expectations by case name (the CLI's
 * --expect), so a user can assert a shape of their own. No tensors are left behind.
 */
export async function runShapeCases(
  cases: ShapeCase[],
  backend: BackendName,
  overrides: Record<string, Got> = {},
): Promise<CaseResult[]> {
  await setBackend(backend);
  await initKernel(); // the same (kernel) path for every case, not only those after it compiled
  const results: CaseResult[] = [];
  for (const c of cases) {
    const expected = c.name in overrides ? overrides[c.name] : c.expected;
    const start = performance.now();
    let got: Got | null = null;
    let error = '';
    try {
      got = tf.tidy(() => c.run());
    } catch (e) {
      error = `${(e as Error).name}: ${(e as Error).message}`;
    }
    const ms = performance.now() - start;
    const ok = got !== null && fmtGot(got) === fmtGot(expected);
    results.push({
      name: c.name,
      backend,
      expected: fmtGot(expected),
      got: got === null ? 'error' : fmtGot(got),
      maxError: null,
      ms,
      ok,
      detail: ok ? '' : error || `expected ${fmtGot(expected)}, got ${fmtGot(got!)} (${c.source})`,
    });
  }
  return results;
}
