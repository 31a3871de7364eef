// Shared by the build scripts that bundle a piece of tfjs-core into a package's src/vendor/
// (packages/ops: the gradients; apps/bench: the chained ops). tfjs-core ships those pieces as
// extensionless ESM that plain Node cannot load; esbuild bundles them into one file that it can.
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** tfjs-core's dist/ directory as the package at `pkg` resolves it. */
export function tfjsCoreDist(pkg) {
  const require = createRequire(join(pkg, 'package.json'));
  return join(dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist');
}

/**
 * Bundles `entry` (module source resolved inside tfjs-core's dist/) with esbuild's `build` into
 * <pkg>/src/vendor/<name>.js and writes `dts` as its <name>.d.ts; run with --copy (after tsc), it
 * copies src/vendor/ to dist/vendor/ instead.
 */
export async function vendorTfjsCore({ pkg, build, name, entry, dts }) {
  const vendor = join(pkg, 'src', 'vendor');
  if (process.argv.includes('--copy')) {
    cpSync(vendor, join(pkg, 'dist', 'vendor'), { recursive: true });
    return;
  }
  mkdirSync(vendor, { recursive: true });
  await build({
    stdin: {
      contents: entry,
      resolveDir: tfjsCoreDist(pkg),
      sourcefile: 'entry.mjs',
      loader: 'js',
    },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    minify: true,
    legalComments: 'eof',
    outfile: join(vendor, `${name}.js`),
    logLevel: 'warning',
  });
  writeFileSync(join(vendor, `${name}.d.ts`), dts);
}
