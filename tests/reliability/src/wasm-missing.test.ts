// Issue 8, faults: a wasm backend that cannot load gives a clear BackendError naming the path and
// suggesting 'cpu'; the previously active backend stays usable. Each scenario runs in a fresh Node
// process (tfjs-backend-wasm loads once per process) against the BUILT @rnnkit/ops, as a user
// installing from npm would run it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_BACKEND } from './test-utils.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const opsDir = join(root, 'packages/ops');
const dist = join(opsDir, 'dist/index.js');
const WASM_FILES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
];

/** The child: a list of steps, each reported as one JSON line. */
const SCRIPT = `
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const [dist, stepsJson] = process.argv.slice(2);
const ops = await import(pathToFileURL(dist).href);
const tf = await import(pathToFileURL(createRequire(dist).resolve('@tensorflow/tfjs-core')).href);
const report = (o) => console.log(JSON.stringify(o));
for (const step of JSON.parse(stepsJson)) {
  if (step.op === 'setBackend') {
    try {
      await ops.setBackend(step.name, step.opts);
      report({ step: step.id, ok: true, backend: ops.getBackend() });
    } catch (e) {
      report({ step: step.id, ok: false, cls: e.constructor.name, isBackendError: e instanceof ops.BackendError, message: e.message, backend: tf.engine().backendName });
    }
  } else if (step.op === 'forward') {
    try {
      ops.manualSeed(3);
      const l = new ops.Linear(2, 3);
      const x = tf.tensor2d([[1, 2], [3, -4]]);
      const y = l.forward(x);
      report({ step: step.id, ok: true, backend: ops.getBackend(), shape: y.shape, values: Array.from(y.dataSync()) });
      tf.dispose([x, y]);
      l.dispose();
    } catch (e) {
      report({ step: step.id, ok: false, cls: e.constructor.name, message: e.message });
    }
  }
}
`;

type Step =
  | { id: string; op: 'setBackend'; name: 'cpu' | 'wasm'; opts?: { wasmPaths?: string } }
  | { id: string; op: 'forward' };

interface Report {
  step: string;
  ok: boolean;
  cls?: string;
  isBackendError?: boolean;
  message?: string;
  backend?: string | null;
  shape?: number[];
  values?: number[];
}

let work: string;
let script: string;
let realWasmDir: string;

/** Runs the steps in a fresh Node process and returns each step's report by id. */
function runChild(steps: Step[]): Record<string, Report> {
  const r = spawnSync(process.execPath, [script, dist, JSON.stringify(steps)], {
    encoding: 'utf8',
    timeout: 60_000,
    cwd: work,
  });
  expect(r.error, r.stderr).toBeUndefined();
  expect(r.status, `child exited with ${r.status}: ${r.stderr}`).toBe(0);
  const reports = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Report);
  expect(reports.map((x) => x.step)).toEqual(steps.map((s) => s.id));
  return Object.fromEntries(reports.map((x) => [x.step, x]));
}

describe(`wasm backend that cannot load (child processes, from ${PROJECT_BACKEND})`, () => {
  beforeAll(() => {
    // the built package; build it when missing or older than its sources
    const stale =
      !existsSync(dist) ||
      statSync(join(opsDir, 'src/backend.ts')).mtimeMs >
        statSync(join(opsDir, 'dist/backend.js')).mtimeMs;
    if (stale) {
      const b = spawnSync('pnpm', ['--filter', '@rnnkit/ops', 'build'], {
        cwd: root,
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(b.status, `pnpm --filter @rnnkit/ops build: ${b.stdout}\n${b.stderr}`).toBe(0);
    }
    work = mkdtempSync(join(tmpdir(), 'rnnkit-wasm-missing-'));
    script = join(work, 'child.mjs');
    writeFileSync(script, SCRIPT);
    realWasmDir = `${dirname(createRequire(dist).resolve('@tensorflow/tfjs-backend-wasm'))}/`;
    for (const f of WASM_FILES) expect(existsSync(join(realWasmDir, f))).toBe(true);
  }, 150_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a wasmPaths directory without .wasm files: BackendError naming it and suggesting cpu; cpu stays active; a retry with the right path works', () => {
    const r = runChild([
      { id: 'cpu', op: 'setBackend', name: 'cpu' },
      { id: 'ref', op: 'forward' },
      { id: 'bad', op: 'setBackend', name: 'wasm', opts: { wasmPaths: '/nonexistent/' } },
      { id: 'after', op: 'forward' },
      { id: 'good', op: 'setBackend', name: 'wasm', opts: { wasmPaths: realWasmDir } },
      { id: 'wasm', op: 'forward' },
    ]);
    expect(r.bad.ok).toBe(false);
    expect(r.bad.cls).toBe('BackendError');
    expect(r.bad.isBackendError).toBe(true);
    expect(r.bad.message).toMatch(/^setBackend\('wasm'\): /);
    expect(r.bad.message).toContain('"/nonexistent/"');
    expect(r.bad.message).toMatch(/tfjs-backend-wasm\.wasm/);
    expect(r.bad.message).toContain("use setBackend('cpu')");
    // the previous backend is still the active one, and works
    expect(r.bad.backend).toBe('cpu');
    expect(r.after).toMatchObject({ ok: true, backend: 'cpu', shape: [2, 3] });
    expect(r.after.values).toEqual(r.ref.values);
    // nothing was handed to tfjs-backend-wasm, so the right path still works
    expect(r.good).toMatchObject({ ok: true, backend: 'wasm' });
    expect(r.wasm).toMatchObject({ ok: true, backend: 'wasm', shape: [2, 3] });
    r.wasm.values!.forEach((v, i) => {
      expect(v).toBeCloseTo(r.ref.values![i], 5);
    });
  });

  it('as the first backend of a process: the same clear error, then cpu works', () => {
    const r = runChild([
      { id: 'bad', op: 'setBackend', name: 'wasm', opts: { wasmPaths: '/nonexistent/' } },
      { id: 'cpu', op: 'setBackend', name: 'cpu' },
      { id: 'after', op: 'forward' },
    ]);
    expect(r.bad).toMatchObject({ ok: false, cls: 'BackendError' });
    expect(r.bad.message).toContain('"/nonexistent/"');
    expect(r.bad.message).toContain("use setBackend('cpu')");
    expect(r.cpu).toMatchObject({ ok: true, backend: 'cpu' });
    expect(r.after).toMatchObject({ ok: true, backend: 'cpu', shape: [2, 3] });
  });

  it('.wasm files that fail to load (corrupt): BackendError naming the directory, cpu stays active', () => {
    const corrupt = join(work, 'corrupt/');
    rmSync(corrupt, { recursive: true, force: true });
    mkdirSync(corrupt, { recursive: true });
    for (const f of WASM_FILES) writeFileSync(join(corrupt, f), 'not wasm');
    const r = runChild([
      { id: 'cpu', op: 'setBackend', name: 'cpu' },
      { id: 'bad', op: 'setBackend', name: 'wasm', opts: { wasmPaths: corrupt } },
      { id: 'after', op: 'forward' },
      { id: 'again', op: 'setBackend', name: 'wasm', opts: { wasmPaths: realWasmDir } },
      { id: 'still', op: 'forward' },
    ]);
    expect(r.bad).toMatchObject({ ok: false, cls: 'BackendError', backend: 'cpu' });
    expect(r.bad.message).toMatch(/^setBackend\('wasm'\): the backend failed to initialise/);
    expect(r.bad.message).toContain(JSON.stringify(corrupt));
    expect(r.bad.message).toContain("use setBackend('cpu')");
    expect(r.bad.message).toContain("The 'cpu' backend is still active.");
    expect(r.after).toMatchObject({ ok: true, backend: 'cpu', shape: [2, 3] });
    // tfjs-backend-wasm takes paths once per process: the error says which path it really used
    expect(r.again).toMatchObject({ ok: false, cls: 'BackendError', backend: 'cpu' });
    expect(r.again.message).toContain(`looked for in ${JSON.stringify(corrupt)}`);
    expect(r.again.message).toMatch(/came too late/);
    expect(r.still).toMatchObject({ ok: true, backend: 'cpu' });
  });
});
