#!/usr/bin/env node
// Release dry run (CI, after `pnpm test`, which builds the packages):
// 1. `changeset status`: the pending changesets are readable and name real packages;
// 2. `changeset version` in a scratch clone of HEAD: every package it bumps gets a CHANGELOG.md
//    entry for its new version (the work tree is not touched);
// 3. `pnpm publish -r --dry-run`: what npm would receive, package by package.
// Exits non-zero naming the failing step.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const changeset = join(root, 'node_modules', '.bin', 'changeset');

function run(step, cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`release dry run: FAILED at ${step}\n${r.stdout}\n${r.stderr}`);
    process.exit(1);
  }
  return `${r.stdout}${r.stderr}`;
}

const packages = (dir) =>
  readdirSync(join(dir, 'packages'))
    .map((d) => join(dir, 'packages', d))
    .filter((d) => existsSync(join(d, 'package.json')))
    .map((d) => ({ dir: d, ...JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) }))
    .filter((p) => !p.private);

console.log(run('changeset status', changeset, ['status'], root).trim());

const scratch = mkdtempSync(join(tmpdir(), 'rnnkit-release-'));
try {
  run('git clone', 'git', ['clone', '--quiet', '--no-hardlinks', root, scratch], root);
  const before = Object.fromEntries(packages(scratch).map((p) => [p.name, p.version]));
  run('changeset version', changeset, ['version'], scratch);
  for (const p of packages(scratch)) {
    if (p.version === before[p.name]) continue;
    const log = join(p.dir, 'CHANGELOG.md');
    const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
    if (!text.includes(`## ${p.version}`)) {
      console.error(
        `release dry run: ${p.name} ${before[p.name]} -> ${p.version} has no "## ${p.version}" in CHANGELOG.md`,
      );
      process.exit(1);
    }
    console.log(
      `changeset version: ${p.name} ${before[p.name]} -> ${p.version}, CHANGELOG.md written`,
    );
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const out = run(
  'pnpm publish -r --dry-run',
  'pnpm',
  ['publish', '-r', '--dry-run', '--no-git-checks', '--filter', './packages/*'],
  root,
);
const published = [...out.matchAll(/\+ (@rnnkit\/[\w-]+@[\w.-]+)/g)].map((m) => m[1]);
for (const p of packages(root)) {
  if (!published.some((x) => x.startsWith(`${p.name}@`))) {
    console.error(`release dry run: pnpm publish -r --dry-run did not pack ${p.name}\n${out}`);
    process.exit(1);
  }
}
console.log(`pnpm publish -r --dry-run: ${published.join(', ')}`);
