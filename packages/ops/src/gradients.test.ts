// Gradients register on first training use, not on import, setBackend or a module's construction,
// so an inference-only app does not ship them. A fresh Node process (the gradient registry is
// global and cannot be emptied) runs the BUILT package, as an npm user would.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const backend = process.env.RNNKIT_BACKEND ?? 'cpu';

const SCRIPT = `
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const [dist, backend] = process.argv.slice(1);
const ops = await import(pathToFileURL(dist).href);
const tf = await import(pathToFileURL(createRequire(dist).resolve('@tensorflow/tfjs-core')).href);
const out = {};
await ops.setBackend(backend);
const m = new ops.Linear(3, 2);
const x = tf.ones([4, 3]);
const y = m.forward(x);
out.afterInference = tf.getGradient('Add') !== undefined;
try {
  tf.grad((v) => tf.sum(m.forward(v)))(x);
  out.grad = 'no error';
} catch (e) {
  out.grad = { name: e.name, isRnnkit: ops.RnnkitError.isInstance(e), message: e.message };
}
out.leftAfterError = tf.memory().numTensors;
const opt = tf.train.sgd(0.1);
out.step = ops.trainStep(m, () => tf.mean(tf.square(m.forward(x))), opt);
out.afterTrainStep = tf.getGradient('Add') !== undefined;
out.gradShape = tf.grad((v) => tf.sum(m.forward(v)))(x).shape;
console.log(JSON.stringify(out));
`;

it('gradients register on trainStep, not setBackend or construction; tf.grad before that names the fix', () => {
  expect(existsSync(dist), `${dist} missing: build @rnnkit/ops first`).toBe(true);
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', SCRIPT, dist, backend], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
  expect(out.afterInference).toBe(false);
  expect(out.grad.name).toBe('RnnkitError');
  expect(out.grad.isRnnkit).toBe(true);
  expect(out.grad.message).toMatch(/^Linear\.forward: a gradient is being computed/);
  expect(out.grad.message).toContain('call ensureGradients() from @rnnkit/ops');
  // x, y and the Linear's two parameters: the failed tf.grad left nothing behind
  expect(out.leftAfterError).toBe(4);
  expect(out.step.gradNorm).toBeGreaterThan(0);
  expect(out.afterTrainStep).toBe(true);
  expect(out.gradShape).toEqual([4, 3]);
});
