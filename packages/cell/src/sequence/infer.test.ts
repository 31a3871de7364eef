// The inference path on host arrays (infer.ts) against runSequence while a gradient is recorded
// (the differentiable op path: projectInput, then the fused recurrence op): equal results, the
// layouts, when it runs at all, how many tensors it makes, and no leak when the kernel fails.
import { KernelError, manualSeed } from '@rnnkit/ops';
import { expectEqual, maxAbsDiff, randn } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINE_DEFAULTS, enginePolicy } from '../policy.js';
import type { State } from '../weights.js';
import { type CellMode, createRecurrentWeights, type RecurrentWeights } from '../weights.js';
import { stackInference } from './infer.js';
import { runSequence } from './run.js';

interface Host {
  shape: number[];
  values: number[];
}
const host = (t: tf.Tensor): Host => ({
  shape: t.shape,
  values: Array.from(t.dataSync(), (v) => v + 0), // -0 as 0
});

/** fn's tensors computed while tfjs records a gradient (the engine's differentiable path), read back. */
function recorded(fn: () => tf.Tensor[]): Host[] {
  let out: Host[] = [];
  tf.tidy(() =>
    tf.grad((x: tf.Tensor) => {
      out = fn().map(host);
      return tf.sum(x);
    })(tf.scalar(1)),
  );
  return out;
}

interface Stack {
  weights: RecurrentWeights[][];
  S: number;
  H: number;
}

function stack(mode: CellMode, I: number, H: number, L: number, D: number, P = 0): Stack {
  manualSeed(5);
  const weights = Array.from({ length: L }, (_, layer) =>
    Array.from({ length: D }, (_, d) =>
      createRecurrentWeights(
        (_n, v) => tf.variable(v),
        `_l${layer}${d ? '_reverse' : ''}`,
        mode,
        layer === 0 ? I : D * (P || H),
        H,
        true,
        P,
      ),
    ),
  );
  return { weights, S: P || H, H };
}

const free = (s: Stack) =>
  tf.dispose(
    s.weights.flat().flatMap((w) => [w.wih, w.whh, w.bih, w.bhh, w.whr].filter((t) => t !== null)),
  );

/** The stack through runSequence, time-major x [T, B, I], h0/c0 [L*D, B, *]. */
function reference(
  s: Stack,
  x: tf.Tensor3D,
  h0: tf.Tensor3D,
  c0: tf.Tensor3D | null,
  lengths: number[] | null,
): tf.Tensor[] {
  return tf.tidy(() => {
    const D = s.weights[0]!.length;
    const hs: tf.Tensor[] = [];
    const cs: tf.Tensor[] = [];
    let input = x;
    s.weights.forEach((dirs, layer) => {
      const outs = dirs.map((w, d) => {
        const row = (t: tf.Tensor3D) => tf.squeeze(tf.slice(t, [layer * D + d], [1]), [0]);
        const init: State = { h: row(h0) };
        if (c0) init.c = row(c0);
        const r = runSequence(w, input, init, { reverse: d === 1, lengths });
        hs.push(r.state.h);
        if (r.state.c) cs.push(r.state.c);
        return r.output;
      });
      input = (outs.length === 1 ? outs[0] : tf.concat(outs, 2)) as tf.Tensor3D;
    });
    return c0 ? [input, tf.stack(hs), tf.stack(cs)] : [input, tf.stack(hs)];
  });
}

const cases: Array<[string, CellMode, number, number, number]> = [
  // name, mode, layers, directions, LSTM projection
  ['RNN tanh, 2 layers, bidirectional', 'rnn_tanh', 2, 2, 0],
  ['RNN relu', 'rnn_relu', 1, 1, 0],
  ['LSTM, 2 layers, bidirectional', 'lstm', 2, 2, 0],
  ['LSTM with a projection, 2 layers', 'lstm', 2, 1, 3],
  ['GRU, 2 layers, bidirectional', 'gru', 2, 2, 0],
];

describe('stackInference', () => {
  afterEach(() => Object.assign(enginePolicy, ENGINE_DEFAULTS));

  for (const [name, mode, L, D, P] of cases) {
    it(`${name}: equals the differentiable path, lengths and given states included`, () => {
      const [T, B, I, H] = [5, 3, 4, 6];
      const s = stack(mode, I, H, L, D, P);
      const x = randn([T, B, I], 1) as tf.Tensor3D;
      const h0 = randn([L * D, B, s.S], 2) as tf.Tensor3D;
      const c0 = mode === 'lstm' ? (randn([L * D, B, H], 3) as tf.Tensor3D) : null;
      for (const lengths of [null, [5, 2, 4]]) {
        const want = recorded(() => reference(s, x, h0, c0, lengths));
        const init = c0 ? [h0, c0] : [h0];
        const got = stackInference(s.weights, x, false, init, lengths);
        expect(got).not.toBeNull();
        const all = [got!.output, ...got!.finals];
        // Bit-identical: the same kernel products and gate arithmetic, only the wrapping differs.
        expect(all.map(host)).toEqual(want);
        tf.dispose(all);
      }
      tf.dispose([x, h0, c0 ?? []].flat());
      free(s);
    });
  }

  it('batch-first and unbatched inputs give the time-major results in their layout; zero states by default', () => {
    const s = stack('lstm', 4, 6, 2, 2);
    const x = randn([5, 2, 4], 4) as tf.Tensor3D;
    const zeros = [tf.zeros([4, 2, 6]), tf.zeros([4, 2, 6])];
    tf.tidy(() => {
      const want = stackInference(s.weights, x, false, zeros, null)!;
      const bf = stackInference(s.weights, tf.transpose(x, [1, 0, 2]), true, [null, null], null)!;
      expectEqual(bf.output, tf.transpose(want.output, [1, 0, 2]));
      for (const [i, f] of bf.finals.entries()) expectEqual(f, want.finals[i]!);
      // unbatched [T, I]: sequence 1 of the batch on its own
      const row = (t: tf.Tensor) => tf.squeeze(tf.slice(t, [0, 1], [-1, 1]), [1]);
      const flat = stackInference(s.weights, row(x), false, [null, null], null)!;
      expectEqual(flat.output, row(want.output));
      for (const [i, f] of flat.finals.entries()) expectEqual(f, row(want.finals[i]!));
    });
    tf.dispose([x, ...zeros]);
    free(s);
  });

  it('makes one tensor per result and nothing else; null while recording a gradient or without the kernel', () => {
    const s = stack('lstm', 4, 6, 2, 1);
    const x = randn([1, 1, 4], 5) as tf.Tensor3D;
    const before = tf.scalar(0);
    const r = stackInference(s.weights, x, true, [null, null], null)!;
    const after = tf.scalar(0);
    // tensor ids count every tensor made in between, disposed or not: output, h, c
    expect(after.id - before.id - 1).toBe(3);
    // while a gradient is recorded: null, so the caller runs the differentiable path
    const inside = recorded(() => [
      tf.scalar(stackInference(s.weights, x, true, [null, null], null) ? 0 : 1),
    ]);
    expect(inside[0]!.values).toEqual([1]);
    enginePolicy.kernel = false;
    expect(stackInference(s.weights, x, true, [null, null], null)).toBeNull();
    tf.dispose([x, before, after, r.output, ...r.finals]);
    free(s);
  });

  it('reads a bias again once it is assigned (host copies follow the value)', () => {
    const s = stack('gru', 4, 6, 1, 1);
    const x = randn([1, 1, 4], 7) as tf.Tensor3D;
    const run = () => stackInference(s.weights, x, false, [null], null)!;
    const first = run();
    const w = s.weights[0]![0]!;
    for (const bias of [w.bih, w.bhh] as tf.Variable[]) {
      bias.assign(tf.tidy(() => tf.add(bias, 1)));
      const want = recorded(() => reference(s, x, tf.zeros([1, 1, 6]), null, null));
      const got = run();
      expect(host(got.output)).toEqual(want[0]);
      expect(maxAbsDiff(got.output, first.output)).toBeGreaterThan(1e-3);
      tf.dispose([got.output, ...got.finals]);
    }
    tf.dispose([x, first.output, ...first.finals]);
    free(s);
  });

  it('a kernel error leaves no tensor behind', () => {
    const s = stack('gru', 4, 6, 1, 1);
    // more kernel memory than the limit allows: x [2000, 64, 4] projected to [2000, 64, 18]
    const x = randn([2000, 64, 4], 6) as tf.Tensor3D;
    enginePolicy.maxKernelBytes = 4 * 2 ** 20;
    const before = tf.memory().numTensors;
    expect(() => stackInference(s.weights, x, false, [null], null)).toThrow(KernelError);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    free(s);
  });
});
