// tfjs-core's Node bundle registers no gradients, and the file that does
// (dist/register_all_gradients.js) is extensionless ESM that plain Node cannot load.
// This bundles tfjs-core's own gradient configs into src/vendor/tfjs-gradients.js,
// behind one function that registers each gradient not yet registered. The
// registries live on the global object, so this copy serves the user's tfjs-core.
//   node scripts/vendor-gradients.mjs          write src/vendor/
//   node scripts/vendor-gradients.mjs --copy   copy src/vendor/ to dist/vendor/
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { tfjsCoreDist, vendorTfjsCore } from '../../../tooling/scripts/vendor-tfjs.mjs';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const list = readFileSync(join(tfjsCoreDist(pkg), 'register_all_gradients.js'), 'utf8');
const imports = [...list.matchAll(/import \{ (\w+) \} from '\.\/gradients\/(\w+)';/g)];
if (imports.length < 50) {
  throw new Error(`vendor-gradients: found only ${imports.length} gradient imports in tfjs-core`);
}
const doc =
  '/** Registers every tfjs-core gradient not registered yet; returns how many it added. */';
await vendorTfjsCore({
  pkg,
  build,
  name: 'tfjs-gradients',
  entry: [
    "import { getGradient, registerGradient } from './kernel_registry.js';",
    ...imports.map(([, name, file]) => `import { ${name} } from './gradients/${file}.js';`),
    `const configs = [${imports.map(([, name]) => name).join(', ')}];`,
    doc,
    'export function registerTfjsGradients() {',
    '  let added = 0;',
    '  for (const c of configs) if (getGradient(c.kernelName) == null) { registerGradient(c); added++; }',
    '  return added;',
    '}',
  ].join('\n'),
  dts: `${doc}\nexport declare function registerTfjsGradients(): number;\n`,
});
