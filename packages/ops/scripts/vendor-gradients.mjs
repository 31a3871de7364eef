// tfjs-core's Node bundle registers no gradients, and the file that does
// (dist/register_all_gradients.js) is extensionless ESM that plain Node cannot load.
// This bundles tfjs-core's own gradient configs into src/vendor/tfjs-gradients.js,
// behind one function that registers each gradient not yet registered. The
// registries live on the global object, so this copy serves the user's tfjs-core.
//   node scripts/vendor-gradients.mjs          write src/vendor/
//   node scripts/vendor-gradients.mjs --copy   copy src/vendor/ to dist/vendor/
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const vendor = join(pkg, 'src', 'vendor');

if (process.argv.includes('--copy')) {
  cpSync(vendor, join(pkg, 'dist', 'vendor'), { recursive: true });
  process.exit(0);
}

const require = createRequire(join(pkg, 'package.json'));
const core = dirname(require.resolve('@tensorflow/tfjs-core/package.json'));
const list = readFileSync(join(core, 'dist', 'register_all_gradients.js'), 'utf8');
const imports = [...list.matchAll(/import \{ (\w+) \} from '\.\/gradients\/(\w+)';/g)];
if (imports.length < 50) {
  throw new Error(`vendor-gradients: found only ${imports.length} gradient imports in tfjs-core`);
}
const entry = [
  "import { getGradient, registerGradient } from './kernel_registry.js';",
  ...imports.map(([, name, file]) => `import { ${name} } from './gradients/${file}.js';`),
  `const configs = [${imports.map(([, name]) => name).join(', ')}];`,
  '/** Registers every tfjs-core gradient not registered yet; returns how many it added. */',
  'export function registerTfjsGradients() {',
  '  let added = 0;',
  '  for (const c of configs) if (getGradient(c.kernelName) == null) { registerGradient(c); added++; }',
  '  return added;',
  '}',
].join('\n');

mkdirSync(vendor, { recursive: true });
await build({
  stdin: { contents: entry, resolveDir: join(core, 'dist'), sourcefile: 'entry.mjs', loader: 'js' },
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  minify: true,
  legalComments: 'eof',
  outfile: join(vendor, 'tfjs-gradients.js'),
  logLevel: 'warning',
});
writeFileSync(
  join(vendor, 'tfjs-gradients.d.ts'),
  '/** Registers every tfjs-core gradient not registered yet; returns how many it added. */\nexport declare function registerTfjsGradients(): number;\n',
);
