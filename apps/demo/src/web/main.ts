import { kernelThreads } from '@rnnkit/cell';
import { CASES, type CaseResult, runShapeCases } from '@rnnkit/harness';
import { type BackendName, getBackend } from '@rnnkit/ops';
import {
  ADDING_BASELINE,
  CELL_LABELS,
  type CellType,
  type GradientFlowResult,
  gradientFlow,
  type StepInfo,
  tutorialExample,
} from '../engine/index.js';
import { type GradSeries, gradChart, lossChart } from './charts.js';
import { drawHeatmap, drawLegend } from './heatmap.js';
import { describeKernel, startKernelThreads, threadCheck } from './kernel.js';
import type { FromWorker, ToWorker } from './protocol.js';
import './style.css';
import { initPronounce } from './pronounce.js';
import { initNameGenerator, initSpamFilter, type PanelDeps } from './text-models.js';
import { useBackend } from './wasm.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const ui = {
  backend: $<HTMLSelectElement>('backend'),
  backendStatus: $('backend-status'),
  kernelStatus: $('kernel-status'),
  cell: $<HTMLSelectElement>('cell'),
  hiddenSize: $<HTMLInputElement>('hidden-size'),
  seqLen: $<HTMLInputElement>('seq-len'),
  clip: $<HTMLInputElement>('clip'),
  clipNorm: $<HTMLInputElement>('clip-norm'),
  preset: $<HTMLButtonElement>('preset-tutorial'),
  error: $('error'),
  runExample: $<HTMLButtonElement>('run-example'),
  exampleCode: $('example-code'),
  shapes: $<HTMLTableElement>('shapes'),
  exampleMeta: $('example-meta'),
  heatmap: $<HTMLCanvasElement>('heatmap'),
  legend: $<HTMLCanvasElement>('legend'),
  legendMin: $('legend-min'),
  legendMax: $('legend-max'),
  predictions: $<HTMLTableElement>('predictions'),
  train: $('train'),
  steps: $<HTMLInputElement>('steps'),
  lr: $<HTMLInputElement>('lr'),
  trainStart: $<HTMLButtonElement>('train-start'),
  trainStop: $<HTMLButtonElement>('train-stop'),
  trainProgress: $('train-progress'),
  lossChart: $('loss-chart'),
  gradflow: $('gradflow'),
  gain: $<HTMLInputElement>('gain'),
  runGradflow: $<HTMLButtonElement>('run-gradflow'),
  gradflowChart: $('gradflow-chart'),
  gradflowNote: $('gradflow-note'),
  gradflowAll: $<HTMLInputElement>('gradflow-all'),
  harness: $('harness'),
  harnessBoth: $<HTMLInputElement>('harness-both'),
  runHarness: $<HTMLButtonElement>('run-harness'),
  harnessSummary: $('harness-summary'),
  harnessTable: $<HTMLTableElement>('harness-table'),
};

// ---------------------------------------------------------------- settings and helpers

interface Settings {
  backend: BackendName;
  cell: CellType;
  hiddenSize: number;
  seqLen: number;
  clipNorm: number | null;
}

function intValue(input: HTMLInputElement, name: string): number {
  const n = Number(input.value);
  const min = Number(input.min);
  const max = Number(input.max);
  if (!Number.isInteger(n) || n < min || n > max) {
    input.setAttribute('aria-invalid', 'true');
    throw new RangeError(
      `${name}: expected a whole number from ${min} to ${max}, got "${input.value}"`,
    );
  }
  input.removeAttribute('aria-invalid');
  return n;
}

function numberValue(input: HTMLInputElement, name: string): number {
  const n = Number(input.value);
  if (!Number.isFinite(n) || n <= 0) {
    input.setAttribute('aria-invalid', 'true');
    throw new RangeError(`${name}: expected a positive number, got "${input.value}"`);
  }
  input.removeAttribute('aria-invalid');
  return n;
}

function settings(): Settings {
  return {
    backend: ui.backend.value as BackendName,
    cell: ui.cell.value as CellType,
    hiddenSize: intValue(ui.hiddenSize, 'Hidden size'),
    seqLen: intValue(ui.seqLen, 'Sequence length'),
    clipNorm: ui.clip.checked ? numberValue(ui.clipNorm, 'Clip norm') : null,
  };
}

function showError(e: unknown): void {
  ui.error.hidden = false;
  ui.error.textContent = e instanceof Error ? e.message : String(e);
}

function clearError(): void {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

/** Lets the browser paint (e.g. a "running..." label) before blocking work on the main thread. */
const nextFrame = () => new Promise<void>((r) => requestAnimationFrame(() => setTimeout(r, 0)));

/** Runs `fn` with `button` disabled and errors shown. */
async function busy(button: HTMLButtonElement, fn: () => Promise<void> | void): Promise<void> {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = 'Running...';
  clearError();
  try {
    await nextFrame();
    await fn();
  } catch (e) {
    showError(e);
    // a RangeError is a bad setting, shown on the page; anything else is a bug worth a console trace
    if (!(e instanceof RangeError)) console.error(e);
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

// ---------------------------------------------------------------- backend

let backendReady: Promise<void> = Promise.resolve();

async function switchBackend(name: BackendName): Promise<void> {
  ui.backendStatus.textContent = `starting ${name}...`;
  ui.backendStatus.dataset.backend = '';
  try {
    await useBackend(name);
    ui.backendStatus.textContent = `backend: ${getBackend()}`;
    ui.backendStatus.dataset.backend = getBackend();
  } catch (e) {
    ui.backendStatus.textContent = `backend: ${getBackend()} (${name} failed)`;
    ui.backendStatus.dataset.backend = getBackend();
    ui.backend.value = getBackend();
    throw e;
  }
}

ui.backend.addEventListener('change', () => {
  clearError();
  backendReady = switchBackend(ui.backend.value as BackendName).catch(showError);
});

// ---------------------------------------------------------------- kernel threads

/** Starts @rnnkit/cell's kernel threads on this page (where it is cross-origin isolated). */
async function startKernel(): Promise<void> {
  try {
    const k = await startKernelThreads();
    ui.kernelStatus.textContent = `kernel: ${describeKernel(k)}`;
    Object.assign(ui.kernelStatus.dataset, {
      kernel: k.wasm ? 'wasm' : 'js',
      threads: String(k.threads),
      isolated: String(k.isolated),
    });
  } catch (e) {
    ui.kernelStatus.textContent = 'kernel: failed to start';
    ui.kernelStatus.dataset.threads = '0';
    throw e;
  }
}

// For tests and the console: a forward split across the kernel's threads vs one thread.
declare global {
  interface Window {
    rnnkitDemo: { threadCheck: typeof threadCheck; kernelThreads: typeof kernelThreads };
  }
}
window.rnnkitDemo = { threadCheck, kernelThreads };

// ---------------------------------------------------------------- 1. tutorial example

function fillTable(table: HTMLTableElement, rows: string[][], header?: string[]): void {
  const body = document.createElement('tbody');
  for (const r of rows) {
    const tr = body.insertRow();
    for (const c of r) tr.insertCell().textContent = c;
  }
  table.tBodies[0]?.remove();
  if (header) {
    table.tHead?.remove();
    const head = table.createTHead().insertRow();
    for (const h of header) {
      const th = document.createElement('th');
      th.textContent = h;
      head.appendChild(th);
    }
  }
  table.appendChild(body);
}

async function runExample(): Promise<void> {
  await backendReady;
  const s = settings();
  const r = tutorialExample({
    cell: s.cell,
    batch: 2,
    seqLen: s.seqLen,
    inputSize: 300,
    hiddenSize: s.hiddenSize,
    seed: 0,
  });
  const fmt = (shape: number[] | null) => (shape ? `[${shape.join(', ')}]` : '');
  const my = r.cell === 'myrnn';
  const rows: string[][] = [
    ['xt', fmt(r.shapes.input)],
    ...(r.shapes.h0 ? [['h0', fmt(r.shapes.h0)]] : []),
    [my ? 'hidden_states' : 'output', fmt(r.shapes.output)],
    [my ? 'h' : 'h_n', fmt(r.shapes.h)],
    ...(r.shapes.c ? [['c_n', fmt(r.shapes.c)]] : []),
    ['predictions', fmt(r.shapes.predictions)],
    ['len(rnn(xt))', String(r.returns)],
  ];
  fillTable(ui.shapes, rows);
  ui.shapes.dataset.output = JSON.stringify(r.shapes.output);
  ui.exampleCode.textContent = [
    '# PyTorch (the tutorial)',
    ...r.code,
    '',
    '// rnnkit: what ran here',
    ...r.rnnkitCode,
  ].join('\n');
  ui.exampleMeta.textContent = `${CELL_LABELS[r.cell]} on the ${r.backend} backend in ${r.ms.toFixed(0)} ms`;
  const info = drawHeatmap(ui.heatmap, r.hiddenStates);
  ui.legendMin.textContent = (-info.scale).toPrecision(2);
  ui.legendMax.textContent = `+${info.scale.toPrecision(2)}`;
  Object.assign(ui.heatmap.dataset, {
    state: 'rendered',
    cell: r.cell,
    backend: r.backend,
    steps: String(info.steps),
    units: String(info.units),
  });
  fillTable(
    ui.predictions,
    r.predictions.map((row, b) => [`b=${b}`, ...row.map((v) => v.toFixed(3))]),
    ['', ...r.predictions[0].map((_, t) => `t=${t}`)],
  );
}

ui.runExample.addEventListener('click', () => busy(ui.runExample, runExample));
ui.preset.addEventListener('click', () => {
  ui.hiddenSize.value = '256';
  ui.seqLen.value = '10';
  void busy(ui.runExample, runExample);
});

// ---------------------------------------------------------------- 2. training in workers

const TRAIN_CELLS: CellType[] = ['rnn', 'lstm', 'gru'];
const chart = lossChart(ui.lossChart, TRAIN_CELLS, ADDING_BASELINE);
let workers: Worker[] = [];

interface RunState {
  losses: number[];
  gradNorms: number[];
  startedAt: number;
  done: boolean;
  row: { bar: HTMLProgressElement; text: HTMLElement };
}

function progressRow(cell: CellType, steps: number): RunState['row'] {
  const row = document.createElement('div');
  row.className = 'progress-row';
  row.dataset.cell = cell;
  const name = document.createElement('span');
  name.className = `cell-name cell-${cell}`;
  name.textContent = CELL_LABELS[cell];
  const bar = document.createElement('progress');
  bar.id = `progress-${cell}`;
  bar.dataset.testid = `progress-${cell}`;
  bar.max = steps;
  bar.value = 0;
  const text = document.createElement('span');
  text.className = 'progress-text';
  text.id = `progress-text-${cell}`;
  text.textContent = 'starting worker...';
  row.append(name, bar, text);
  ui.trainProgress.appendChild(row);
  return { bar, text };
}

function startTraining(): void {
  clearError();
  let s: Settings;
  let steps: number;
  let lr: number;
  try {
    s = settings();
    steps = intValue(ui.steps, 'Steps');
    lr = numberValue(ui.lr, 'Learning rate');
  } catch (e) {
    showError(e);
    return;
  }
  stopTraining(true);
  ui.trainProgress.textContent = '';
  const runs = new Map<CellType, RunState>();
  let frame = 0;
  const render = () => {
    frame = 0;
    chart.update(Object.fromEntries([...runs].map(([c, r]) => [c, r.losses])));
  };
  const finishIfAllDone = () => {
    if ([...runs.values()].every((r) => r.done)) {
      ui.train.dataset.state = ui.train.dataset.state === 'stopping' ? 'stopped' : 'done';
      ui.trainStart.disabled = false;
      ui.trainStop.disabled = true;
      for (const w of workers) w.terminate();
      workers = [];
    }
  };
  for (const c of TRAIN_CELLS) {
    for (const a of ['loss', 'step', 'first-loss', 'final-loss', 'kernel-threads'])
      ui.train.removeAttribute(`data-${a}-${c}`);
  }
  for (const cell of TRAIN_CELLS) {
    const run: RunState = {
      losses: [],
      gradNorms: [],
      startedAt: performance.now(),
      done: false,
      row: progressRow(cell, steps),
    };
    runs.set(cell, run);
    const worker = new Worker(new URL('./train-worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const msg = e.data;
      if (msg.type === 'started') {
        run.startedAt = performance.now();
        run.row.text.textContent = `training on ${msg.backend} (kernel: ${msg.kernel})...`;
        ui.train.setAttribute(`data-kernel-threads-${cell}`, String(msg.kernelThreads));
      } else if (msg.type === 'progress') {
        for (const st of msg.steps as StepInfo[]) {
          run.losses.push(st.loss);
          run.gradNorms.push(st.gradNorm);
        }
        const last = msg.steps[msg.steps.length - 1];
        const recent = run.losses.slice(-20);
        const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
        const rate = (run.losses.length / (performance.now() - run.startedAt)) * 1000;
        run.row.bar.value = last.step;
        run.row.text.textContent = `step ${last.step}/${steps} \u00b7 loss ${mean.toFixed(4)} (mean of last ${recent.length}) \u00b7 grad norm ${last.gradNorm.toFixed(2)} \u00b7 ${rate.toFixed(0)} steps/s`;
        ui.train.setAttribute(`data-loss-${cell}`, mean.toPrecision(4));
        ui.train.setAttribute(`data-step-${cell}`, String(last.step));
        ui.train.setAttribute(`data-first-loss-${cell}`, run.losses[0].toPrecision(4));
        if (!frame) frame = requestAnimationFrame(render);
      } else if (msg.type === 'done') {
        run.done = true;
        const r = msg.result;
        run.row.text.textContent = `${r.stopped ? 'stopped' : 'done'} after ${r.steps} steps in ${r.seconds.toFixed(1)}s \u00b7 loss ${r.firstLoss.toFixed(3)} \u2192 ${r.recentLoss.toFixed(4)} (mean of last 20)`;
        ui.train.setAttribute(`data-final-loss-${cell}`, r.recentLoss.toPrecision(4));
        render();
        finishIfAllDone();
      } else if (msg.type === 'error') {
        run.done = true;
        run.row.text.textContent = `error: ${msg.message}`;
        showError(`${CELL_LABELS[cell]}: ${msg.message}`);
        finishIfAllDone();
      }
    };
    worker.onerror = (e) => {
      run.done = true;
      run.row.text.textContent = `worker failed: ${e.message}`;
      showError(`${CELL_LABELS[cell]} worker: ${e.message}`);
      finishIfAllDone();
    };
    const msg: ToWorker = {
      type: 'train',
      backend: s.backend,
      options: {
        cell,
        hiddenSize: s.hiddenSize,
        seqLen: s.seqLen,
        steps,
        lr,
        clipNorm: s.clipNorm,
        seed: 0,
        batchSize: 32,
      },
    };
    worker.postMessage(msg);
    workers.push(worker);
  }
  ui.train.dataset.state = 'running';
  ui.train.dataset.backend = s.backend;
  ui.train.dataset.clip = s.clipNorm === null ? 'off' : String(s.clipNorm);
  ui.trainStart.disabled = true;
  ui.trainStop.disabled = false;
  render();
}

/** Asks every worker to stop after its current step; `now` terminates them at once. */
function stopTraining(now = false): void {
  if (now) {
    for (const w of workers) w.terminate();
    workers = [];
    return;
  }
  if (workers.length === 0) return;
  ui.train.dataset.state = 'stopping';
  ui.trainStop.disabled = true;
  for (const w of workers) w.postMessage({ type: 'stop' } satisfies ToWorker);
}

ui.trainStart.addEventListener('click', startTraining);
ui.trainStop.addEventListener('click', () => stopTraining());

// ---------------------------------------------------------------- 3. gradient flow

const grads = gradChart(ui.gradflowChart);

async function runGradflow(): Promise<void> {
  await backendReady;
  const s = settings();
  const gain = numberValue(ui.gain, 'Gain');
  const results: GradientFlowResult[] = [];
  const all: CellType[] = ['rnn', 'lstm', 'gru', 'myrnn'];
  const cells = ui.gradflowAll.checked ? all : [s.cell];
  for (const cell of cells) {
    results.push(
      gradientFlow({
        cell,
        hiddenSize: s.hiddenSize,
        seqLen: s.seqLen,
        seed: 0,
        gain,
        clipNorm: s.clipNorm,
      }),
    );
    await nextFrame();
  }
  const series: GradSeries[] = results.map((r) => ({
    cell: r.cell,
    norms: r.norms,
    ...(s.clipNorm !== null ? { clipped: r.clippedNorms } : {}),
  }));
  grads.update(series);
  ui.gradflowNote.textContent = '';
  for (const c of all) ui.gradflow.removeAttribute(`data-ratio-${c}`);
  for (const r of results) {
    const p = document.createElement('span');
    p.className = `grad-item cell-${r.cell}`;
    p.textContent =
      `${CELL_LABELS[r.cell]}: |dL/dx_0| / |dL/dx_${s.seqLen - 1}| = ${r.ratio.toExponential(1)} (${r.verdict}), ` +
      `parameter grad norm ${r.paramGradNorm.toPrecision(3)}` +
      (s.clipNorm !== null
        ? r.clipFactor < 1
          ? `, clipped by \u00d7${r.clipFactor.toPrecision(2)}`
          : ', below the clip norm (unchanged)'
        : '');
    ui.gradflowNote.appendChild(p);
    ui.gradflow.setAttribute(`data-ratio-${r.cell}`, r.ratio.toExponential(3));
  }
  const note = document.createElement('span');
  note.className = 'grad-item';
  note.textContent =
    s.clipNorm === null
      ? 'Clipping is off: these are the raw gradients. Turn it on above to see what clip_grad_norm_ does.'
      : `Clipping is on (max norm ${s.clipNorm}): dashed lines are the same gradients after clip_grad_norm_ scaled the whole pass. ` +
        'Clipping tames exploding gradients but cannot revive vanishing ones: the slope over t stays the same.';
  ui.gradflowNote.appendChild(note);
  Object.assign(ui.gradflow.dataset, {
    state: 'rendered',
    cells: cells.join(','),
    clip: s.clipNorm === null ? 'off' : String(s.clipNorm),
    backend: getBackend(),
    steps: String(s.seqLen),
  });
}

ui.runGradflow.addEventListener('click', () => busy(ui.runGradflow, runGradflow));

// ---------------------------------------------------------------- 4. harness

async function runHarness(): Promise<void> {
  await backendReady;
  const current = ui.backend.value as BackendName;
  const backends: BackendName[] = ui.harnessBoth.checked
    ? [current, current === 'cpu' ? 'wasm' : 'cpu']
    : [current];
  ui.harness.dataset.state = 'running';
  const tbody = ui.harnessTable.tBodies[0];
  tbody.textContent = '';
  const results: CaseResult[] = [];
  const total = CASES.length * backends.length;
  try {
    for (const backend of backends) {
      // runShapeCases activates the backend itself; wasm needs its binaries' URLs first.
      if (backend === 'wasm') await useBackend('wasm');
      for (const c of CASES) {
        ui.harnessSummary.textContent = `running ${results.length + 1}/${total}: ${c.name} on ${backend}...`;
        await nextFrame();
        const [r] = await runShapeCases([c], backend);
        results.push(r);
        const tr = tbody.insertRow();
        tr.dataset.ok = String(r.ok);
        tr.dataset.case = r.name;
        tr.className = r.ok ? 'ok' : 'fail';
        for (const v of [
          r.name,
          r.expected,
          r.got,
          r.backend,
          r.ms.toFixed(1),
          r.ok ? 'ok' : 'FAIL',
        ])
          tr.insertCell().textContent = v;
        if (!r.ok) tr.title = r.detail;
      }
    }
  } finally {
    if (getBackend() !== current) await useBackend(current);
  }
  const passed = results.filter((r) => r.ok).length;
  ui.harnessSummary.textContent = `${passed === results.length ? 'PASS' : 'FAIL'}: ${passed}/${results.length} shape checks passed on ${backends.join(', ')}`;
  Object.assign(ui.harness.dataset, {
    state: 'done',
    passed: String(passed),
    total: String(results.length),
  });
}

ui.runHarness.addEventListener('click', () => busy(ui.runHarness, runHarness));

// ---------------------------------------------------------------- 5, 6, 7. name generator, spam filter, pronounce

const textPanels: PanelDeps = { backendReady: () => backendReady, showError, clearError };

// ---------------------------------------------------------------- start-up

drawLegend(ui.legend);
backendReady = switchBackend(ui.backend.value as BackendName).catch(showError);
const kernelStarted = startKernel().catch(showError);
void (async () => {
  await kernelStarted;
  await busy(ui.runExample, runExample);
  await busy(ui.runGradflow, runGradflow);
  // The model panels fetch their safetensors files (same origin) and run once on the prefilled input.
  await initNameGenerator(textPanels);
  await initSpamFilter(textPanels);
  await initPronounce(textPanels);
  document.body.dataset.ready = 'true';
})();
