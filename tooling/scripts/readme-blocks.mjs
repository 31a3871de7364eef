// Doc test: every ```js block of the README files runs, as written, in a project that installed
// the packed tarballs (tooling/scripts/pack-smoke.mjs calls this after its own app). Each block is
// saved as its own .mjs file and run with plain `node`; it must exit 0. The one input a block
// reads that a Python block would have written (myrnn.safetensors: the tutorial's MyRNN saved
// by PyTorch; checkpoint.pt: a torch.save checkpoint) come from committed PyTorch fixtures.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The README files whose js blocks run: the root one and each package's. */
export function readmeFiles(root) {
  const pkgs = join(root, 'packages');
  return [
    join(root, 'README.md'),
    ...readdirSync(pkgs)
      .map((d) => join(pkgs, d, 'README.md'))
      .filter((f) => existsSync(f)),
  ];
}

/**
 * The ```js blocks of `text`: { line (1-based, of the fence), code, expected }. `expected` lists,
 * per console.log line, the output its trailing comment promises (`console.log(a.shape); // [2, 3]`),
 * or null where the comment is approximate (starts with "~") or missing.
 */
export function jsBlocks(text) {
  const blocks = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```js') continue;
    const start = i;
    const code = [];
    for (i++; i < lines.length && lines[i].trim() !== '```'; i++) code.push(lines[i]);
    const expected = code
      .filter((l) => /^\s*console\.log\(/.test(l))
      .map((l) => l.match(/\/\/\s*([^~].*)$/)?.[1] ?? null);
    blocks.push({ line: start + 1, code: `${code.join('\n')}\n`, expected });
  }
  return blocks;
}

/** myrnn.safetensors in `project`: the parameters of the PyTorch fixture of the tutorial's MyRNN. */
function writeMyRnn(root, project) {
  const fixture = join(root, 'tooling/golden/fixtures/cell/tutorial_myrnn.safetensors');
  const script = `
import { readFileSync, writeFileSync } from 'node:fs';
import { loadSafetensors, saveSafetensors, setBackend } from '@rnnkit/ops';
await setBackend('cpu');
const all = loadSafetensors(readFileSync(${JSON.stringify(fixture)}));
const params = Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('param.')).map(([k, v]) => [k.slice(6), v]));
writeFileSync('myrnn.safetensors', saveSafetensors(params));
`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: project,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`writing myrnn.safetensors failed:\n${r.stderr}`);
}

/**
 * Runs every js block of the README files in `project` (node_modules with the tarballs);
 * returns [{ where, ms }] or throws naming the block (file:line) with its output.
 */
export function runReadmeBlocks(root, project) {
  writeMyRnn(root, project);
  // checkpoint.pt: a torch.save of {"model": Sequential(Embedding, GRU), "optimizer", "epoch"}
  copyFileSync(
    join(root, 'tooling/golden/fixtures/torch/nested.pt'),
    join(project, 'checkpoint.pt'),
  );
  const ran = [];
  for (const file of readmeFiles(root)) {
    const rel = relative(root, file);
    for (const { line, code, expected } of jsBlocks(readFileSync(file, 'utf8'))) {
      const where = `${rel}:${line}`;
      const name = `readme-${rel.replace(/[^\w]+/g, '-')}-${line}.mjs`;
      writeFileSync(join(project, name), code);
      const t = Date.now();
      const r = spawnSync(process.execPath, [name], {
        cwd: project,
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (r.status !== 0) {
        throw new Error(
          `the js block at ${where} failed (exit ${r.status ?? r.signal}):\n${code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`,
        );
      }
      const out = r.stdout.trim().split('\n');
      const squash = (v) => v.replace(/\s+/g, '');
      expected.forEach((want, k) => {
        if (want !== null && squash(out[k] ?? '') !== squash(want)) {
          throw new Error(
            `the js block at ${where} printed ${JSON.stringify(out[k])} where its comment says ${JSON.stringify(want)}`,
          );
        }
      });
      ran.push({ where, ms: Date.now() - t, out: out.join('\n') });
    }
  }
  return ran;
}
