#!/usr/bin/env node
// `pnpm test` starts here: the demo's end-to-end test and the bundler recipes run in Chromium.
// Finds it (CHROMIUM_PATH, else /usr/bin/chromium); where it can (root on Debian/Ubuntu) installs
// Debian's chromium with apt-get; otherwise stops, printing the one command to run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (existsSync(path)) process.exit(0);

const debian = existsSync('/usr/bin/apt-get') && existsSync('/etc/debian_version');
const root = process.getuid?.() === 0;
const command = 'sudo apt-get install -y chromium';
if (process.env.CHROMIUM_PATH !== undefined) {
  console.error(
    `Chromium not found at CHROMIUM_PATH=${path}: point it at a Chromium or Chrome binary.`,
  );
  process.exit(1);
}
if (debian && root) {
  console.log(
    "Chromium is missing (the browser tests need it): installing Debian's chromium with apt-get ...",
  );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', 'chromium'],
  ]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) {
      console.error(
        `apt-get ${args.join(' ')} failed; install Chromium yourself: apt-get install -y chromium`,
      );
      process.exit(1);
    }
  }
  if (existsSync(path)) process.exit(0);
}
console.error(
  `Chromium is needed for the browser tests (the demo and the bundler recipes) and was not found at ${path}.\n` +
    (debian
      ? `Install it with:\n\n  ${command}\n`
      : 'Install Chromium or Chrome and set CHROMIUM_PATH to its binary, e.g.\n\n  CHROMIUM_PATH=/path/to/chrome pnpm test\n'),
);
process.exit(1);
