// One training run in a Web Worker: sets its own backend, trains, and posts progress in batches
// (at most every 100 ms) so the page stays responsive; 'stop' ends the run after the current step.
import { trainAdding } from '../engine/index.js';
import { describeKernel, startKernelThreads } from './kernel.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { useBackend } from './wasm.js';

const post = (msg: FromWorker) => (self as unknown as Worker).postMessage(msg);
let stopRequested = false;

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  if (msg.type === 'stop') {
    stopRequested = true;
    return;
  }
  const cell = msg.options.cell;
  try {
    // The kernel's threads are nested workers of this one (it is cross-origin isolated as the page).
    const [, kernel] = await Promise.all([useBackend(msg.backend), startKernelThreads()]);
    post({
      type: 'started',
      cell,
      backend: msg.backend,
      kernelThreads: kernel.threads,
      kernel: describeKernel(kernel),
    });
    let pending: FromWorker & { type: 'progress' } = { type: 'progress', cell, steps: [] };
    let lastPost = 0;
    const flush = () => {
      if (pending.steps.length === 0) return;
      post(pending);
      pending = { type: 'progress', cell, steps: [] };
      lastPost = performance.now();
    };
    const {
      losses: _l,
      gradNorms: _g,
      ...result
    } = await trainAdding({
      ...msg.options,
      shouldStop: () => stopRequested,
      yieldMs: 30,
      onStep: (info) => {
        pending.steps.push(info);
        if (performance.now() - lastPost > 100) flush();
      },
    });
    flush();
    post({ type: 'done', result });
  } catch (err) {
    post({ type: 'error', cell, message: (err as Error).message ?? String(err) });
  }
};
