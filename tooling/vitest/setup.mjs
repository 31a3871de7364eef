// Activates the backend named by the project ("cpu" or "wasm") before each test file. Above
// @rnnkit/ops (which cell depends on), it also waits for @rnnkit/cell's WebAssembly recurrence
// kernel, so every forward of a test run takes the kernel path, from the first one on. Tests
// differentiate with tf.grad themselves, so the gradients are registered up front.
import { readFileSync } from 'node:fs';
import { ensureGradients, setBackend } from '@rnnkit/ops';

await setBackend(process.env.RNNKIT_BACKEND ?? 'cpu');
ensureGradients();

const pkg = JSON.parse(readFileSync(`${process.cwd()}/package.json`, 'utf8'));
if (pkg.name !== '@rnnkit/ops') {
  const { initKernel } = await import('@rnnkit/cell');
  await initKernel();
}
