/**
 * Where rnnkit's forward time goes: under tf.profile, each kernel is timed as it runs, and its
 * self time (minus the kernels it runs itself, e.g. inside a tf.customGrad op) is grouped by
 * kernel and input shapes, against the un-instrumented wall time of the call. What is left over
 * is JavaScript outside any kernel: tfjs's engine bookkeeping, tidy scopes and rnnkit's own code.
 */
import { setBackend } from '@rnnkit/ops';
import { GRU, LSTM, RNN } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName, BenchCase } from './cases.js';
import { randomArray, summarize } from './stats.js';

export interface KernelShare {
  /** Kernel name and its input shapes, e.g. "BatchMatMul [64,256] [256,256]". */
  kernel: string;
  calls: number;
  totalMs: number;
}

export interface ProfileResult {
  id: string;
  backend: BackendName;
  shape: BenchCase['shape'];
  /** Median wall time of the plain call (ms), outside tf.profile. */
  wallMs: number;
  /** Wall time of the instrumented call, and the sum of its kernels' self times. */
  profiledWallMs: number;
  kernelMs: number;
  kernels: KernelShare[];
}

export async function profileCase(
  c: BenchCase,
  backend: BackendName,
  reps = 3,
): Promise<ProfileResult> {
  await setBackend(backend);
  const { B, T, I, H } = c.shape;
  const opts = { inputSize: I, hiddenSize: H, batchFirst: true };
  const model =
    c.cell === 'rnn' ? new RNN(opts) : c.cell === 'lstm' ? new LSTM(opts) : new GRU(opts);
  model.eval();
  const x = tf.tensor3d(randomArray(B * T * I, 3), [B, T, I]);
  const call = () => {
    const out = tf.tidy(() => model.forward(x)[0]);
    out.dataSync();
    out.dispose();
  };
  try {
    call();
    const walls: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      call();
      walls.push(performance.now() - t0);
    }
    const check = tf.env().getBool('CHECK_COMPUTATION_FOR_ERRORS');
    tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
    const groups = new Map<string, KernelShare>();
    const restore = instrumentKernels((name, shapes, selfMs) => {
      const key = `${name === 'unnamed scope' ? 'custom op (tf.customGrad), own JS' : name} ${shapes}`;
      const g = groups.get(key) ?? { kernel: key, calls: 0, totalMs: 0 };
      g.calls++;
      g.totalMs += selfMs;
      groups.set(key, g);
    });
    let profiledWallMs: number;
    try {
      const t0 = performance.now();
      await tf.profile(() => call());
      profiledWallMs = performance.now() - t0;
    } finally {
      restore();
      tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', check);
    }
    const kernelMs = [...groups.values()].reduce((sum, g) => sum + g.totalMs, 0);
    return {
      id: c.id,
      backend,
      shape: c.shape,
      wallMs: summarize(walls).medianMs,
      profiledWallMs,
      kernelMs,
      kernels: [...groups.values()].sort((a, b) => b.totalMs - a.totalMs),
    };
  } finally {
    model.dispose();
    x.dispose();
  }
}

type ProfileKernel = (name: string, inputs: tf.NamedTensorMap, f: () => tf.Tensor[]) => unknown;

/**
 * Wraps tfjs's kernel profiler (active under tf.profile) to time every kernel with its nesting,
 * reporting self times. Returns the function that undoes the wrapping.
 */
function instrumentKernels(
  onKernel: (name: string, shapes: string, selfMs: number) => void,
): () => void {
  const profiler = (tf.engine() as unknown as { profiler: { profileKernel: ProfileKernel } })
    .profiler;
  const original = profiler.profileKernel;
  const stack: number[] = [];
  profiler.profileKernel = function (this: unknown, name, inputs, f) {
    stack.push(0);
    const t0 = performance.now();
    try {
      return original.call(this, name, inputs, f);
    } finally {
      const ms = performance.now() - t0;
      const childMs = stack.pop()!;
      if (stack.length > 0) stack[stack.length - 1] += ms;
      const shapes = Object.values(inputs)
        .map((t) => `[${t?.shape.join(',') ?? ''}]`)
        .join(' ');
      onKernel(name, shapes, ms - childMs);
    }
  };
  return () => {
    profiler.profileKernel = original;
  };
}

export function profileMarkdown(p: ProfileResult, top = 12): string {
  const { B, T, I, H } = p.shape;
  const pct = (ms: number) => `${((100 * ms) / p.profiledWallMs).toFixed(1)}%`;
  const lines = [
    `### rnnkit ${p.id} (${B},${T},${I},${H}) on ${p.backend}: where the time goes`,
    '',
    `Plain call ${p.wallMs.toFixed(1)} ms (median); instrumented call ${p.profiledWallMs.toFixed(1)} ms, ` +
      `of which kernels (self time) ${p.kernelMs.toFixed(1)} ms (${pct(p.kernelMs)}); the rest ` +
      `(${(p.profiledWallMs - p.kernelMs).toFixed(1)} ms) is JavaScript outside any kernel.`,
    '',
    '| kernel (input shapes) | calls | self ms | share of instrumented call |',
    '|---|---:|---:|---:|',
    ...p.kernels
      .slice(0, top)
      .map((k) => `| ${k.kernel} | ${k.calls} | ${k.totalMs.toFixed(1)} | ${pct(k.totalMs)} |`),
  ];
  const rest = p.kernels.slice(top);
  if (rest.length > 0) {
    const ms = rest.reduce((s, k) => s + k.totalMs, 0);
    const calls = rest.reduce((s, k) => s + k.calls, 0);
    lines.push(`| ${rest.length} other kernels | ${calls} | ${ms.toFixed(1)} | ${pct(ms)} |`);
  }
  return `${lines.join('\n')}\n`;
}
