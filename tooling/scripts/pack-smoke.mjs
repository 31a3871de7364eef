#!/usr/bin/env node
// Pack smoke test: what a user gets from npm must work in plain Node.
//
// 1. `pnpm pack` every publishable package (packages/*, not private) into a temp dir.
// 2. Create an empty temp project outside the workspace and `npm install` the tarballs plus
//    @tensorflow/tfjs-core, -backend-cpu and -backend-wasm 4.22.0 from the registry.
// 3. Run a plain .mjs file with plain `node`: load every package, then on cpu and on wasm build a
//    Linear(4, 3), run a forward pass and one gradient step with trainStep, and check that the
//    loss goes down, the weights change and no tensors are left behind; then the same for an
//    LSTM from @rnnkit/rnn (when it exports one). The app is tooling/scripts/pack-smoke-app.mjs.
// 4. Run every ```js block of README.md and packages/*/README.md there, as written
//    (tooling/scripts/readme-blocks.mjs).
//
// Needs `pnpm build` first. Exits non-zero with a message naming the failing step.
// `--keep` keeps the temp dir for inspection (it is kept anyway on failure).
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runReadmeBlocks } from './readme-blocks.mjs';

const TFJS_VERSION = '4.22.0';
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const started = Date.now();
const keep = process.argv.includes('--keep');

function fail(step, message, tmp) {
  console.error(`\npack-smoke: FAILED at "${step}"\n${message}`);
  if (tmp) console.error(`(temp dir kept for inspection: ${tmp})`);
  process.exit(1);
}

function run(step, cmd, args, opts, tmp) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) fail(step, `could not run ${cmd}: ${r.error.message}`, tmp);
  if (r.status !== 0) {
    fail(
      step,
      `\`${cmd} ${args.join(' ')}\` exited with ${r.status ?? r.signal} in ${opts.cwd}\n` +
        `--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`,
      tmp,
    );
  }
  return r;
}

// --- 1. the publishable packages ---------------------------------------------------------------
const pkgsDir = join(root, 'packages');
const packages = readdirSync(pkgsDir)
  .map((d) => join(pkgsDir, d))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  .filter(({ manifest }) => !manifest.private)
  .sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
if (packages.length === 0) fail('find packages', `no publishable package under ${pkgsDir}`);
for (const { dir, manifest } of packages) {
  if (!existsSync(join(dir, 'dist'))) {
    fail('find packages', `${manifest.name} has no dist/ (${dir}/dist): run \`pnpm build\` first.`);
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'rnnkit-pack-smoke-'));
const tarDir = join(tmp, 'tarballs');
const project = join(tmp, 'project');
mkdirSync(tarDir);
mkdirSync(project);

// --- 2. pnpm pack (rewrites workspace:^ ranges to real versions) -------------------------------
const tarballs = [];
for (const { dir, manifest } of packages) {
  const before = new Set(readdirSync(tarDir));
  run(
    `pnpm pack ${manifest.name}`,
    'pnpm',
    ['pack', '--pack-destination', tarDir],
    { cwd: dir },
    tmp,
  );
  const made = readdirSync(tarDir).filter((f) => f.endsWith('.tgz') && !before.has(f));
  if (made.length !== 1) {
    fail(
      `pnpm pack ${manifest.name}`,
      `expected one new tarball in ${tarDir}, found ${made.length}`,
      tmp,
    );
  }
  const file = join(tarDir, made[0]);
  tarballs.push({
    name: manifest.name,
    version: manifest.version,
    file,
    size: statSync(file).size,
  });
}

// --- 3. empty project + npm install --------------------------------------------------------------
writeFileSync(
  join(project, 'package.json'),
  `${JSON.stringify({ name: 'rnnkit-pack-smoke', version: '0.0.0', private: true, type: 'module' }, null, 2)}\n`,
);
const installStart = Date.now();
run(
  'npm install',
  'npm',
  [
    'install',
    '--no-audit',
    '--no-fund',
    '--no-package-lock',
    '--save-exact',
    '--loglevel=error',
    ...tarballs.map((t) => t.file),
    `@tensorflow/tfjs-core@${TFJS_VERSION}`,
    `@tensorflow/tfjs-backend-cpu@${TFJS_VERSION}`,
    `@tensorflow/tfjs-backend-wasm@${TFJS_VERSION}`,
  ],
  { cwd: project },
  tmp,
);
const installSeconds = (Date.now() - installStart) / 1000;
for (const t of tarballs) {
  const installed = join(project, 'node_modules', ...t.name.split('/'), 'package.json');
  if (!existsSync(installed))
    fail('npm install', `${t.name} is not in ${project}/node_modules`, tmp);
  const v = JSON.parse(readFileSync(installed, 'utf8')).version;
  if (v !== t.version) fail('npm install', `${t.name}: installed ${v}, packed ${t.version}`, tmp);
}

// --- 4. plain node, plain .mjs -----------------------------------------------------------------
copyFileSync(join(root, 'tooling', 'scripts', 'pack-smoke-app.mjs'), join(project, 'smoke.mjs'));
copyFileSync(
  join(root, 'tooling', 'golden', 'fixtures', 'torch', 'linear.pt'),
  join(project, 'linear.pt'),
);
const names = JSON.stringify(tarballs.map((t) => t.name));
const r = spawnSync(process.execPath, ['smoke.mjs', names], { cwd: project, encoding: 'utf8' });
if (r.status !== 0) {
  fail(
    'node smoke.mjs',
    `plain node exited with ${r.status ?? r.signal}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`,
    tmp,
  );
}

// --- 5. the README's js blocks (tooling/scripts/readme-blocks.mjs) -----------------------------
let blocks;
try {
  blocks = runReadmeBlocks(root, project);
} catch (e) {
  fail('README js blocks', e.message, tmp);
}

// --- summary -----------------------------------------------------------------------------------
console.log('pack-smoke: OK');
for (const t of tarballs)
  console.log(`  packed ${t.name}@${t.version} (${(t.size / 1024).toFixed(1)} KB)`);
console.log(
  `  npm install of tarballs + tfjs ${TFJS_VERSION} (core, cpu, wasm): ${installSeconds.toFixed(1)} s`,
);
for (const line of r.stdout.trim().split('\n')) console.log(`  ${line}`);
for (const b of blocks)
  console.log(`  README block ${b.where}: ok in ${b.ms} ms (${b.out.split('\n')[0]})`);
console.log(`  total ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (keep) console.log(`  temp dir kept: ${tmp}`);
else rmSync(tmp, { recursive: true, force: true });
