// Issue 8, scale: a T = 100,000-step forward completes without stack overflow and with bounded
// memory, and truncated BPTT (trainChunk) over a 100,000-step stream in chunks of 100 completes
// with no tensor growth. Timings are printed per backend.
import { Linear, Module, manualSeed, mseLoss, trainChunk } from '@rnnkit/ops';
import { GRU, LSTM, type RecurrentLayer, RNN } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { PROJECT_BACKEND } from './test-utils.js';

const T = 100_000;

/** x_t = (sin(0.01 t), cos(0.013 t)) as [T, 1, 2] (time-major, B = 1, I = 2). */
function stream(from: number, steps: number): tf.Tensor3D {
  const data = new Float32Array(steps * 2);
  for (let s = 0; s < steps; s++) {
    const t = from + s;
    data[2 * s] = Math.sin(0.01 * t);
    data[2 * s + 1] = Math.cos(0.013 * t);
  }
  return tf.tensor3d(data, [steps, 1, 2]);
}

// Measured here (one backend at a time): forward ~2-4 s per layer on either backend; truncated
// BPTT over the whole stream ~7 s on cpu, ~12 s on wasm. Both run on both backends.
const BPTT_STEPS = T;

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

describe(`T = 100,000 (${PROJECT_BACKEND})`, () => {
  it.each([
    ['RNN', () => new RNN({ inputSize: 2, hiddenSize: 4 })],
    ['GRU', () => new GRU({ inputSize: 2, hiddenSize: 4 })],
    ['LSTM', () => new LSTM({ inputSize: 2, hiddenSize: 4 })],
  ] as const)(
    '%s forward over 100,000 steps: no stack overflow, memory = input + output',
    (name, make) => {
      manualSeed(1);
      const start = tf.memory().numTensors;
      const m: RecurrentLayer = make();
      const x = stream(0, T);
      const heapBefore = process.memoryUsage().heapUsed;
      const before = tf.memory();
      const t0 = performance.now();
      const out = m.forward(x) as [tf.Tensor, tf.Tensor | [tf.Tensor, tf.Tensor]];
      const seconds = (performance.now() - t0) / 1000;
      const [output, last] = out;
      const finals = Array.isArray(last) ? last : [last];
      expect(output.shape).toEqual([T, 1, 4]);
      for (const f of finals) expect(f.shape).toEqual([1, 1, 4]);
      // only the outputs are new: T*4 floats of output plus the final state(s)
      const after = tf.memory();
      expect(after.numTensors).toBe(before.numTensors + 1 + finals.length);
      expect(after.numBytes - before.numBytes).toBe(4 * (T * 4 + 4 * finals.length));
      // the last output is the final hidden state, and every value is finite
      const o = output.dataSync();
      const h = finals[0].dataSync();
      for (let j = 0; j < 4; j++) expect(o[(T - 1) * 4 + j]).toBeCloseTo(h[j], 6);
      for (let i = 0; i < o.length; i++)
        if (!Number.isFinite(o[i])) throw new Error(`non-finite at ${i}`);
      const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
      // JS memory stays bounded too (a per-step array of tensors would be hundreds of MB)
      expect(heapGrowth).toBeLessThan(256 * 2 ** 20);
      console.log(
        `[reliability] ${name} forward T=100,000 on ${PROJECT_BACKEND}: ${seconds.toFixed(2)} s, ` +
          `tensor bytes +${mb(after.numBytes - before.numBytes)}, JS heap ${heapGrowth >= 0 ? '+' : ''}${mb(heapGrowth)}`,
      );
      tf.dispose([output, ...finals, x]);
      m.dispose();
      expect(tf.memory().numTensors).toBe(start);
    },
    60_000,
  );

  it(`truncated BPTT: trainChunk over a ${BPTT_STEPS.toLocaleString('en')}-step stream in chunks of 100, no tensor growth`, () => {
    const K = 100;
    class Predictor extends Module {
      readonly rnn = this.registerModule('rnn', new RNN({ inputSize: 2, hiddenSize: 4 }));
      readonly head = this.registerModule('head', new Linear(4, 2));
      forward(x: tf.Tensor, h0: tf.Tensor): [tf.Tensor, tf.Tensor] {
        const [out, hN] = this.rnn.forward(x, h0);
        const y = tf.tidy(() => this.head.forward(out));
        out.dispose();
        return [y, hN];
      }
    }
    manualSeed(2);
    const model = new Predictor();
    const opt = tf.train.adam(0.01);
    let state: tf.Tensor = tf.zeros([1, 1, 4]);
    const losses: number[] = [];
    let baseline = -1;
    let baseBytes = -1;
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    for (let start = 0; start < BPTT_STEPS; start += K) {
      // predict x_{t+1} from x_t
      const x = stream(start, K);
      const target = stream(start + 1, K);
      const r = trainChunk(
        model,
        state,
        (h0) => {
          const [y, hN] = model.forward(x, h0);
          return { loss: mseLoss(y, target), state: hN };
        },
        opt,
        { clipNorm: 1 },
      );
      state = r.state;
      tf.dispose([x, target]);
      if (start === 0) {
        // Adam's slots exist from the first chunk on
        baseline = tf.memory().numTensors;
        baseBytes = tf.memory().numBytes;
      } else if (start % (20 * K) === 0) {
        expect(tf.memory().numTensors).toBe(baseline);
        expect(tf.memory().numBytes).toBe(baseBytes);
      }
      losses.push(r.loss);
    }
    const seconds = (performance.now() - t0) / 1000;
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 2 ** 20);
    expect(losses.length).toBe(BPTT_STEPS / K);
    expect(tf.memory().numTensors).toBe(baseline);
    expect(tf.memory().numBytes).toBe(baseBytes);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    const firstLoss = mean(losses.slice(0, 10));
    const lastLoss = mean(losses.slice(-10));
    expect(Number.isFinite(lastLoss)).toBe(true);
    expect(lastLoss).toBeLessThan(firstLoss);
    console.log(
      `[reliability] trainChunk over T=${BPTT_STEPS.toLocaleString('en')} (chunks of ${K}) on ${PROJECT_BACKEND}: ${seconds.toFixed(1)} s, ` +
        `${baseline} tensors / ${baseBytes} bytes throughout, loss ${firstLoss.toFixed(4)} -> ${lastLoss.toFixed(4)}, ` +
        `JS heap ${mb(process.memoryUsage().heapUsed - heapBefore)}`,
    );
    state.dispose();
    opt.dispose();
    model.dispose();
  }, 120_000);
});
