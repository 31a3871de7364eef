// Builds every recipe's page into dist/<recipe>/ (index.html + bundle + .wasm files) and writes
// what each bundler warned about to dist/<recipe>/warnings.json, which the test reads.
//   node build.mjs            all recipes
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const require = createRequire(import.meta.url);
const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
const PAGE = (script) =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>rnnkit</title></head>\n<body><script type="module" src="./${script}"></script></body></html>\n`;

/** esbuild's options for a browser page, as the README's esbuild recipe: one minified ESM bundle. */
const ESBUILD = {
  bundle: true,
  platform: 'browser',
  format: 'esm',
  minify: true,
  logLevel: 'silent',
};

function out(recipe) {
  const dir = join(dist, recipe);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** esbuild, platform browser, no --external: one ESM file, the .wasm files copied beside it. */
async function esbuildRecipe() {
  const { build } = await import('esbuild');
  const dir = out('esbuild');
  const r = await build({
    ...ESBUILD,
    entryPoints: [join(here, 'recipes/esbuild/main.js')],
    outfile: join(dir, 'main.js'),
  });
  for (const f of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm')))
    copyFileSync(join(wasmDir, f), join(dir, f));
  writeFileSync(join(dir, 'index.html'), PAGE('main.js'));
  return r.warnings.map((w) => w.text);
}

/** webpack 5, production mode (minified); .wasm files as assets from `new URL(..., import.meta.url)`. */
async function webpackRecipe() {
  const { default: webpack } = await import('webpack');
  const dir = out('webpack');
  const stats = await new Promise((ok, fail) =>
    webpack({
      mode: 'production',
      entry: join(here, 'recipes/webpack/main.js'),
      output: {
        path: dir,
        filename: 'main.js',
        module: true,
        publicPath: 'auto',
        assetModuleFilename: '[name]-[hash:8][ext]',
      },
      experiments: { outputModule: true },
      target: 'web',
      performance: { hints: false },
    }).run((err, s) => (err ? fail(err) : ok(s))),
  );
  const info = stats.toJson({ all: false, errors: true, warnings: true });
  if (info.errors.length) throw new Error(info.errors.map((e) => e.message).join('\n'));
  writeFileSync(join(dir, 'index.html'), PAGE('main.js'));
  return info.warnings.map((w) => w.message);
}

/** Vite 8 production build (minified by Vite's defaults). */
async function viteRecipe() {
  const { build, createLogger } = await import('vite');
  const dir = out('vite');
  const warnings = [];
  const logger = createLogger('warn');
  logger.warn = (msg) => warnings.push(msg);
  logger.warnOnce = (msg) => warnings.push(msg);
  await build({
    root: join(here, 'recipes/vite'),
    base: './',
    logLevel: 'warn',
    customLogger: logger,
    build: { outDir: dir, emptyOutDir: true, chunkSizeWarningLimit: 4000 },
    worker: { format: 'es' },
  });
  return warnings;
}

/**
 * The smallest LSTM-inference app (size/inference.js), minified by esbuild with the tfjs backends
 * left out (each is loaded by setBackend; their size is tfjs's): bytes and gzip -9 bytes of
 * rnnkit + tfjs-core, and the rnnkit files in the bundle. Written to dist/size.json.
 */
async function measure() {
  const { build } = await import('esbuild');
  const r = await build({
    ...ESBUILD,
    entryPoints: [join(here, 'size/inference.js')],
    write: false,
    metafile: true,
    external: ['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu'],
  });
  const js = r.outputFiles[0].contents;
  const inputs = Object.values(r.metafile.outputs)[0].inputs;
  const bytesOf = (re) =>
    Object.entries(inputs)
      .filter(([f]) => re.test(f))
      .reduce((n, [, i]) => n + i.bytesInOutput, 0);
  return {
    bytes: js.length,
    gzip: gzipSync(js, { level: 9 }).length,
    rnnkitBytes: bytesOf(/packages\/(ops|cell|rnn)\//),
    tfjsCoreBytes: bytesOf(/tfjs-core/),
    rnnkitFiles: Object.keys(inputs).filter((f) => /packages\//.test(f)),
  };
}

const recipes = { esbuild: esbuildRecipe, webpack: webpackRecipe, vite: viteRecipe };
for (const [name, make] of Object.entries(recipes)) {
  const t = Date.now();
  const warnings = await make();
  writeFileSync(join(dist, name, 'warnings.json'), `${JSON.stringify(warnings, null, 2)}\n`);
  console.log(`${name}: built in ${Date.now() - t} ms, ${warnings.length} warning(s)`);
  for (const w of warnings) console.log(`  warning: ${w.split('\n')[0]}`);
}
const size = await measure();
writeFileSync(join(dist, 'size.json'), `${JSON.stringify(size, null, 2)}\n`);
console.log(
  `inference app (rnnkit + tfjs-core, minified): ${size.bytes} bytes, ${size.gzip} gzip (rnnkit ${size.rnnkitBytes}, tfjs-core ${size.tfjsCoreBytes})`,
);
