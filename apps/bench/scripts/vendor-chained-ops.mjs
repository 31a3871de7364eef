// tfjs-layers calls chained tensor methods (`t.flatten()`, `t.reshape()`, ...), which tfjs-core's
// Node bundle does not register (only the full @tensorflow/tfjs package does), and the file that
// does (dist/public/chained_ops/register_all_chained_ops.js) is extensionless ESM that plain Node
// cannot load. This bundles it into src/vendor/tfjs-chained-ops.js; importing that file adds the
// methods to the global Tensor class, so tfjs-layers runs as it does for a user of @tensorflow/tfjs.
// rnnkit itself uses only functional ops and is unaffected.
//   node scripts/vendor-chained-ops.mjs          write src/vendor/
//   node scripts/vendor-chained-ops.mjs --copy   copy src/vendor/ to dist/vendor/
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const vendor = join(app, 'src', 'vendor');

if (process.argv.includes('--copy')) {
  cpSync(vendor, join(app, 'dist', 'vendor'), { recursive: true });
  process.exit(0);
}

const require = createRequire(join(app, 'package.json'));
const core = dirname(require.resolve('@tensorflow/tfjs-core/package.json'));
mkdirSync(vendor, { recursive: true });
await build({
  stdin: {
    contents: "import './public/chained_ops/register_all_chained_ops.js';",
    resolveDir: join(core, 'dist'),
    sourcefile: 'entry.mjs',
    loader: 'js',
  },
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  minify: true,
  legalComments: 'eof',
  outfile: join(vendor, 'tfjs-chained-ops.js'),
  logLevel: 'warning',
});
writeFileSync(
  join(vendor, 'tfjs-chained-ops.d.ts'),
  '/** Side effect only: registers tfjs-core chained ops on the global Tensor class. */\nexport {};\n',
);
