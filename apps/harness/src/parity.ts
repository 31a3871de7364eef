import { initKernel } from '@rnnkit/cell';
import { allFixtures, check, checkOf, readFixture, tolerance } from '@rnnkit/golden';
import {
  type BackendName,
  ensureGradients,
  loadSafetensors,
  safetensorsMetadata,
  setBackend,
} from '@rnnkit/ops';
import { API } from './kinds.js';
import type { CaseResult } from './runner.js';

const codec = { loadSafetensors, safetensorsMetadata };

/**
 * Every committed fixture grouped by its check (a module kind such as RNN, or a named check such
 * as crossEntropy or loadTorchCheckpoint): { RNN: [["rnn", name], ...], ... }, in first-seen order.
 */
export function parityChecks(): Map<string, Array<[string, string]>> {
  const byCheck = new Map<string, Array<[string, string]>>();
  for (const [group, name] of allFixtures()) {
    const config =
      group === 'torch' ? {} : JSON.parse(safetensorsMetadata(readFixture(group, name)).config);
    const which = checkOf(group, name, config);
    if (!byCheck.has(which)) byCheck.set(which, []);
    byCheck.get(which)!.push([group, name]);
  }
  return byCheck;
}

const tolText = (t: { forward: number; grad: number }) =>
  t.grad ? `fwd<=${t.forward} grad<=${t.grad}` : `fwd<=${t.forward}`;

/** One result per check: worst forward and gradient errors over its fixtures, against its tolerances. */
export async function runParity(
  backend: BackendName,
  filters: (name: string) => boolean,
): Promise<CaseResult[]> {
  await setBackend(backend);
  ensureGradients(); // the fixtures' gradients are checked with tf.variableGrads
  await initKernel(); // the same (kernel) path for every case, not only those after it compiled
  const results: CaseResult[] = [];
  for (const [which, fixtures] of parityChecks()) {
    const name = `parity.${which}`;
    if (!filters(name)) continue;
    const start = performance.now();
    const tol = tolerance(which);
    let fwd = 0;
    let grad = 0;
    let worst = '';
    let error = '';
    for (const [group, fixture] of fixtures) {
      try {
        const r = check(group, fixture, API, codec);
        if (r.leaked !== 0) throw new Error(`left ${r.leaked} tensors behind`);
        if (r.forward > fwd || r.grad > grad)
          worst = `${group}/${fixture} (${r.forwardAt} / ${r.gradAt})`;
        fwd = Math.max(fwd, r.forward);
        grad = Math.max(grad, r.grad);
      } catch (e) {
        error ||= `${group}/${fixture}: ${(e as Error).message}`;
      }
    }
    const ok = !error && fwd <= tol.forward && grad <= tol.grad;
    results.push({
      name,
      backend,
      expected: tolText(tol),
      got: error
        ? 'error'
        : `fwd ${fwd.toExponential(1)}${tol.grad ? ` grad ${grad.toExponential(1)}` : ''} (${fixtures.length})`,
      maxError: Math.max(fwd, grad),
      fixtures: fixtures.length,
      ms: performance.now() - start,
      ok,
      detail: ok ? '' : error || `worst: ${worst}`,
    });
  }
  return results;
}
