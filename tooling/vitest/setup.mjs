// Activates the backend named by the project ("cpu" or "wasm") before each test file. In packages
// that use @rnnkit/cell it also waits for cell's WebAssembly recurrence kernel, so their tests run
// the kernel path from the first forward on (cell's own tests check that it is in use).
import { readFileSync } from 'node:fs';
import { setBackend } from '@rnnkit/ops';

await setBackend(process.env.RNNKIT_BACKEND ?? 'cpu');

const pkg = JSON.parse(readFileSync(`${process.cwd()}/package.json`, 'utf8'));
const deps = { ...pkg.dependencies, ...pkg.devDependencies };
if (pkg.name === '@rnnkit/cell' || '@rnnkit/cell' in deps) {
  const { initKernel } = await import('@rnnkit/cell');
  await initKernel();
}
