import { initKernel } from '@rnnkit/cell';
import { checkFixture, listFixtures, readFixture } from '@rnnkit/golden';
import {
  type BackendName,
  ensureGradients,
  loadSafetensors,
  safetensorsMetadata,
  setBackend,
} from '@rnnkit/ops';
import { KINDS } from './kinds.js';
import type { CaseResult } from './runner.js';

const GROUPS = ['ops', 'cell', 'rnn', 'heads'];
export const FORWARD_TOL = 1e-5;
export const GRAD_TOL = 1e-4;

/** Every committed fixture whose kind is a module, grouped by kind: { RNN: [["rnn", name], ...] }. */
export function parityKinds(): Map<string, Array<[string, string]>> {
  const byKind = new Map<string, Array<[string, string]>>();
  for (const group of GROUPS) {
    let names: string[] = [];
    try {
      names = listFixtures(group);
    } catch {
      continue; // group not generated
    }
    for (const name of names) {
      const kind = JSON.parse(safetensorsMetadata(readFixture(group, name)).config).kind as string;
      if (!(kind in KINDS)) continue; // functional fixtures (losses, clipping) are unit-tested in @rnnkit/ops
      if (!byKind.has(kind)) byKind.set(kind, []);
      byKind.get(kind)!.push([group, name]);
    }
  }
  return byKind;
}

/** One result per module kind: worst forward (abs) and gradient (relative) error over its fixtures. */
export async function runParity(
  backend: BackendName,
  filters: (name: string) => boolean,
): Promise<CaseResult[]> {
  await setBackend(backend);
  ensureGradients(); // the fixtures' gradients are checked with tf.variableGrads
  await initKernel(); // the same (kernel) path for every case, not only those after it compiled
  const results: CaseResult[] = [];
  for (const [kind, fixtures] of parityKinds()) {
    const name = `parity.${kind}`;
    if (!filters(name)) continue;
    const start = performance.now();
    let fwd = 0;
    let grad = 0;
    let worst = '';
    let error = '';
    for (const [group, fixture] of fixtures) {
      try {
        const r = checkFixture(group, fixture, KINDS, { loadSafetensors, safetensorsMetadata });
        if (r.leaked !== 0) throw new Error(`left ${r.leaked} tensors behind`);
        if (r.forward > fwd || r.grad > grad) worst = `${fixture} (${r.forwardAt} / ${r.gradAt})`;
        fwd = Math.max(fwd, r.forward);
        grad = Math.max(grad, r.grad);
      } catch (e) {
        error ||= `${fixture}: ${(e as Error).message}`;
      }
    }

    const ok = !error && fwd <= FORWARD_TOL && grad <= GRAD_TOL;
    results.push({
      name,
      backend,
      expected: `fwd<=${FORWARD_TOL} grad<=${GRAD_TOL}`,
      got: error
        ? 'error'
        : `fwd ${fwd.toExponential(1)} grad ${grad.toExponential(1)} (${fixtures.length})`,
      maxError: Math.max(fwd, grad),
      ms: performance.now() - start,
      ok,
      detail: ok ? '' : error || `worst: ${worst}`,
    });
  }
  return results;
}
