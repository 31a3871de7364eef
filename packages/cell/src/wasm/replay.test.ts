// A decode loop's steps replay the layout of the step before (replay.ts); every change that could
// leave that layout stale (a weight or bias reassigned, another call in between, the kernel's memory
// released, other threads) lays the next step out anew, with the results of a fresh layout.
import { randn, seeded } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINE_DEFAULTS, enginePolicy } from '../policy.js';
import { stackInference } from '../sequence/infer.js';
import { createRecurrentWeights, type RecurrentWeights } from '../weights.js';
import { loadedKernel } from './kernel.js';
import { releaseKernelMemory } from './release.js';
import { replayCount } from './replay.js';
import { kernelThreads, setKernelThreads } from './threads.js';

afterEach(async () => {
  Object.assign(enginePolicy, ENGINE_DEFAULTS);
  await setKernelThreads();
});

const [I, H] = [6, 16];

/** LSTM weights I -> H as tf.Variables, as a layer holds them. */
const lstm = (seed: number): RecurrentWeights =>
  seeded(seed, () => createRecurrentWeights((_, v) => tf.variable(v), '', 'lstm', I, H, true));

/** New variables holding w's values in new data (a clone may share its data id, on cpu). */
const copy = (w: RecurrentWeights): RecurrentWeights => {
  const v = (t: tf.Tensor | null) =>
    t && tf.tidy(() => tf.variable(tf.tensor(t.dataSync(), t.shape)));
  return { ...w, wih: v(w.wih)!, whh: v(w.whh)!, bih: v(w.bih), bhh: v(w.bhh), whr: null };
};

const dispose = (...ws: RecurrentWeights[]) =>
  tf.dispose(ws.flatMap((w) => [w.wih, w.whh, w.bih, w.bhh].filter((t) => t !== null)));

/** One step of B = 2 sequences through w (x [2, 1, I], state [h0, c0] or zeros) as host values. */
function step(w: RecurrentWeights, x: tf.Tensor, state: tf.Tensor[] | null): number[][] {
  const r = stackInference([[w]], x, true, state ?? [null, null], null)!;
  const values = [r.output, ...r.finals].map((t) => Array.from(t.dataSync()));
  tf.dispose([r.output, ...r.finals]);
  return values;
}

describe('replayed kernel layouts', () => {
  for (const split of [false, true]) {
    const how = split
      ? 'split across 2 threads (products by columns, the recurrence in chunks)'
      : 'on one thread';
    it(`replays the step before, with the results of a fresh layout (states and inputs change), ${how}`, async () => {
      if (split) {
        expect(await setKernelThreads(2)).toBe(2);
        Object.assign(enginePolicy, { minParallelWork: 1, minStepWork: 1 });
      }
      const w = lstm(1);
      const fresh = copy(w);
      const [x1, x2, h, c] = [
        randn([2, 1, I], 2),
        randn([2, 1, I], 3),
        randn([1, 2, H], 4),
        randn([1, 2, H], 5),
      ];
      step(w, x1, null);
      const before = replayCount();
      const replayed = [step(w, x2, [h, c]), step(w, x1, null), step(w, x2, [h, c])];
      expect(replayCount()).toBe(before + 3);
      // The same steps on a fresh layout: other variables with the same values.
      expect([step(fresh, x2, [h, c]), step(fresh, x1, null)]).toEqual(replayed.slice(0, 2));
      expect(replayCount()).toBe(before + 4); // fresh's second step replays fresh's first
      expect(replayed[0]).not.toEqual(replayed[1]);
      expect(replayed[2]).toEqual(replayed[0]);
      tf.dispose([x1, x2, h, c]);
      dispose(w, fresh);
    });
  }

  it('lays the step out anew when a weight or a bias is reassigned in between', () => {
    const w = lstm(1);
    const [x, h, c] = [randn([2, 1, I], 2), randn([1, 2, H], 4), randn([1, 2, H], 5)];
    let last = step(w, x, [h, c]);
    for (const name of ['whh', 'bih', 'wih', 'bhh'] as const) {
      const t = w[name] as tf.Variable;
      tf.tidy(() => t.assign(tf.mul(t, 0.5)));
      const before = replayCount();
      const after = step(w, x, [h, c]);
      expect(replayCount(), name).toBe(before);
      const fresh = copy(w);
      expect(after, name).toEqual(step(fresh, x, [h, c]));
      expect(after, name).not.toEqual(last);
      last = after;
      dispose(fresh);
    }
    tf.dispose([x, h, c]);
    dispose(w);
  });

  it('lays the step out anew after another call, a new memory or other threads', async () => {
    const [w, other] = [lstm(1), lstm(7)];
    const x = randn([2, 1, I], 2);
    const first = step(w, x, null);
    const changes: Array<[string, () => Promise<unknown> | unknown]> = [
      ['another recurrence', () => step(other, x, null)],
      // A product lays out an arena over the step's biases and argument blocks.
      [
        'a product',
        () => loadedKernel()!.project(new Float32Array(2 * I), 2, I, other.wih, 4 * H, null),
      ],
      ['releaseKernelMemory', () => releaseKernelMemory()],
      ['the split policy', () => Object.assign(enginePolicy, { minParallelWork: 1 })],
      ['the threads', () => setKernelThreads(kernelThreads() === 1 ? 2 : 1)],
    ];
    for (const [what, change] of changes) {
      step(w, x, null);
      const threads = kernelThreads();
      await change();
      if (what === 'the threads') expect(kernelThreads()).not.toBe(threads);
      const before = replayCount();
      expect(step(w, x, null), what).toEqual(first);
      expect(replayCount(), what).toBe(before);
    }
    expect(step(w, x, null)).toEqual(first);
    tf.dispose(x);
    dispose(w, other);
  });

  it('lays a call of other sizes out anew', () => {
    const w = lstm(1);
    const [x1, x3] = [randn([2, 1, I], 2), randn([2, 3, I], 3)];
    step(w, x1, null);
    const before = replayCount();
    const three = stackInference([[w]], x3, true, [null, null], null)!;
    expect(replayCount()).toBe(before);
    const fresh = copy(w);
    const again = stackInference([[fresh]], x3, true, [null, null], null)!;
    expect(three.output.dataSync()).toEqual(again.output.dataSync());
    tf.dispose([x1, x3, three.output, ...three.finals, again.output, ...again.finals]);
    dispose(w, fresh);
  });
});
