import { BACKENDS, type BackendName, setBackend } from '@rnnkit/ops';
import Table from 'cli-table3';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CASES, type Got } from './cases.js';
import { exportForPyTorch } from './export.js';
import { runParity } from './parity.js';
import { type CaseResult, runShapeCases, selected } from './runner.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Colour the table (ANSI codes); off unless said. */
  color?: boolean;
}

/**
 * Colour only for a terminal: never with NO_COLOR (https://no-color.org) or TERM=dumb, always with
 * FORCE_COLOR (not "0"), else when stdout is a TTY.
 */
export function colorWanted(isTTY: boolean | undefined, env: Record<string, string | undefined>) {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return isTTY === true && env.TERM !== 'dumb';
}

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  color: colorWanted(process.stdout.isTTY, process.env),
};

function parseExpect(value: string, previous: Record<string, Got>): Record<string, Got> {
  const m = /^([\w.]+)=(.+)$/.exec(value);
  let got: unknown;
  try {
    got = m ? JSON.parse(m[2]) : null;
  } catch {
    got = null;
  }
  const valid =
    typeof got === 'number' || (Array.isArray(got) && got.every((d) => Number.isInteger(d)));
  if (!m || !valid)
    throw new InvalidArgumentError(`expected CASE=[d0,d1,...] or CASE=N, got "${value}"`);
  if (!CASES.some((c) => c.name === m[1]))
    throw new InvalidArgumentError(`unknown case "${m[1]}" (see --list)`);
  return { ...previous, [m[1]]: got as Got };
}

/** Runs the harness with `argv` (without node and script); returns the exit code: 0 pass, 1 mismatch, 2 bad usage. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const program = new Command('rnnkit-harness')
    .description(
      "Checks that rnnkit reproduces the tutorial's shapes and PyTorch's numbers, on every backend.",
    )
    .addOption(
      new Option('-b, --backend <name>', 'backend to run on')
        .choices([...BACKENDS, 'all'])
        .default('all'),
    )
    .option('-f, --filter <text...>', 'run only cases whose name contains one of these')
    .option(
      '--expect <case=shape...>',
      'override an expectation, e.g. tutorial.myrnn.h=[2,256]',
      parseExpect,
      {},
    )
    .option('--no-parity', 'skip the PyTorch fixture comparison')
    .option('--json', 'print machine-readable results (one JSON object)')
    .option('--list', 'list the cases and exit')
    .option(
      '--export <dir>',
      'write rnnkit-made models for `generate.py --check` (PyTorch loads them) and exit',
    )
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  const opts = program.opts<{
    backend: BackendName | 'all';
    filter?: string[];
    expect: Record<string, Got>;
    parity: boolean;
    json?: boolean;
    list?: boolean;
    export?: string;
  }>();
  const filters = opts.filter ?? [];
  if (opts.list) {
    for (const c of CASES)
      io.out(`${c.name.padEnd(34)} ${JSON.stringify(c.expected).padEnd(14)} ${c.source}\n`);
    return 0;
  }
  if (opts.export) {
    await setBackend(opts.backend === 'all' ? 'cpu' : opts.backend);
    for (const path of exportForPyTorch(opts.export)) io.out(`wrote ${path}\n`);
    io.out(
      `check them in PyTorch: for f in ${opts.export}/*.safetensors; do /usr/bin/python3 tooling/golden/generate.py --check "$f"; done\n`,
    );
    return 0;
  }
  const cases = CASES.filter((c) => selected(c.name, filters));
  const backends: BackendName[] = opts.backend === 'all' ? [...BACKENDS] : [opts.backend];
  const start = performance.now();
  const results: CaseResult[] = [];
  for (const backend of backends) {
    results.push(...(await runShapeCases(cases, backend, opts.expect)));
    if (opts.parity) results.push(...(await runParity(backend, (n) => selected(n, filters))));
  }
  const seconds = (performance.now() - start) / 1000;
  if (results.length === 0) {
    io.err(`rnnkit-harness: no case matches --filter ${filters.join(' ')} (see --list)\n`);
    return 2;
  }
  const failed = results.filter((r) => !r.ok);
  const parity = results.filter((r) => r.maxError !== null);
  const worst = parity.length ? Math.max(...parity.map((r) => r.maxError!)) : null;
  const fixtures = parity.reduce((n, r) => n + (r.fixtures ?? 0), 0) / backends.length;
  const summary =
    `${failed.length === 0 ? 'PASS' : 'FAIL'}: ${results.length - failed.length}/${results.length} checks passed on ${backends.join(', ')}` +
    ` (${cases.length} shape cases${opts.parity ? `, ${parity.length / backends.length} parity checks of ${fixtures} PyTorch fixtures, worst error ${worst?.toExponential(1) ?? 'n/a'}` : ''})` +
    ` in ${seconds.toFixed(1)}s`;
  if (opts.json) {
    io.out(`${JSON.stringify({ ok: failed.length === 0, summary, backends, seconds, results })}\n`);
  } else {
    const table = new Table({
      head: ['case', 'expected', 'got', 'backend', 'max error', 'ms', 'ok'],
      // cli-table3 colours the head and borders unless told not to
      ...(io.color ? {} : { style: { head: [], border: [] } }),
    });
    for (const r of results) {
      table.push([
        r.name,
        r.expected,
        r.got,
        r.backend,
        r.maxError === null ? '' : r.maxError.toExponential(1),
        r.ms.toFixed(1),
        r.ok ? 'ok' : 'FAIL',
      ]);
    }
    io.out(`${table.toString()}\n`);
    for (const r of failed) io.out(`FAIL ${r.name} on ${r.backend}: ${r.detail}\n`);
    io.out(`${summary}\n`);
  }
  return failed.length === 0 ? 0 : 1;
}
