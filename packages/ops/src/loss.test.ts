import { expectClose, expectNoLeak, expectParity, fixture } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { DisposedError, ShapeError } from './errors.js';
import { crossEntropy, mseLoss } from './loss.js';

describe('crossEntropy', () => {
  for (const name of ['cross_entropy_2d', 'cross_entropy_3d']) {
    it(`matches PyTorch value and gradient wrt logits, ignore_index -100 included: ${name}`, () => {
      expectParity('ops', name, { crossEntropy });
      const { t } = fixture('ops', name);
      const logits = t['input.logits'];
      const targets = t['input.targets'];
      expect(targets.dtype).toBe('int32');
      expect(targets.dataSync()[1]).toBe(-100);
      const loss = expectNoLeak(() => crossEntropy(logits, targets), 1);
      expect(loss.rank).toBe(0);
      const g = tf.grad(
        (l: tf.Tensor) => tf.mul(crossEntropy(l, targets), t['lossweight.loss']) as tf.Scalar,
      )(logits);
      // the ignored position gets no gradient
      const c = logits.shape[logits.rank - 1] as number;
      const row = g.dataSync().slice(c, 2 * c);
      expect(row.length).toBe(c);
      expect([...row].every((v) => v === 0)).toBe(true);
      tf.dispose([loss, g, ...Object.values(t)]);
    });
  }

  it('honours a custom ignoreIndex', () => {
    const { t } = fixture('ops', 'cross_entropy_2d');
    const ids = [...t['input.targets'].dataSync()].map((v) => (v === -100 ? 4 : v));
    expect(ids.filter((v) => v === 4).length).toBeGreaterThan(0);
    const targets = tf.tensor1d(ids, 'int32');
    // with ignoreIndex 4 every target 4 drops out; dropping the same rows by hand gives the same value
    const keep = ids.map((v, i) => (v === 4 ? -1 : i)).filter((i) => i >= 0);
    const keepT = tf.tensor1d(keep, 'int32');
    const sub = tf.gather(t['input.logits'], keepT);
    const subTargets = tf.gather(targets, keepT);
    const a = crossEntropy(t['input.logits'], targets, { ignoreIndex: 4 });
    const b = crossEntropy(sub, subTargets);
    expectClose(a, b);
    // and -100 is then an ordinary (out-of-range) class id
    expect(() => crossEntropy(t['input.logits'], t['input.targets'], { ignoreIndex: 4 })).toThrow(
      /got -100 at flat index 1/,
    );
    tf.dispose([targets, keepT, sub, subTargets, a, b, ...Object.values(t)]);
  });

  it('is finite for huge logits and zero when every target is ignored', () => {
    const logits = tf.tensor2d([
      [1000, 0, -1000],
      [0, 1000, 0],
    ]);
    const targets = tf.tensor1d([1, 1], 'int32');
    const loss = crossEntropy(logits, targets);
    expect(loss.dataSync()[0]).toBeCloseTo(500, 3);
    const none = tf.tensor1d([-100, -100], 'int32');
    const zero = crossEntropy(logits, none);
    expect(zero.dataSync()[0] === 0).toBe(true);
    const g = tf.grad((l: tf.Tensor) => crossEntropy(l, none))(logits);
    expect([...g.dataSync()].every((v) => v === 0)).toBe(true);
    tf.dispose([logits, targets, loss, none, zero, g]);
  });

  it('rejects float targets, naming the argument and the dtype', () => {
    const logits = tf.zeros([4, 3]);
    const targets = tf.tensor1d([0, 1, 2, 0]);
    expect(() => crossEntropy(logits, targets)).toThrow(TypeError);
    expect(() => crossEntropy(logits, targets)).toThrow(
      /^crossEntropy\(targets\): expected int32 class ids, got a float32 tensor of shape \[4\]$/,
    );
    const intLogits = tf.zeros([4, 3], 'int32');
    const ids = tf.tensor1d([0, 1, 2, 0], 'int32');
    expect(() => crossEntropy(intLogits, ids)).toThrow(
      /crossEntropy\(logits\): expected a float32 tensor, got a int32 tensor of shape \[4,3\]/,
    );
    expect(() => crossEntropy([[0, 1]] as any, ids)).toThrow(
      /crossEntropy\(logits\): expected a tf\.Tensor, got an array/,
    );
    expect(() => crossEntropy(logits, [0, 1, 2, 0] as any)).toThrow(
      /crossEntropy\(targets\): expected a tf\.Tensor, got an array of length 4/,
    );
    tf.dispose([logits, targets, intLogits, ids]);
  });

  it('rejects mismatched shapes with a ShapeError naming both shapes', () => {
    const logits = tf.zeros([4, 3]);
    const short = tf.tensor1d([0, 1, 2], 'int32');
    expect(() => crossEntropy(logits, short)).toThrow(ShapeError);
    expect(() => crossEntropy(logits, short)).toThrow(
      /crossEntropy: expected logits \[N, C\] or \[N, T, C\] and targets of the leading shape, got logits \[4,3\] and targets \[3\]/,
    );
    const t2 = tf.zeros([4, 1], 'int32');
    expect(() => crossEntropy(logits, t2)).toThrow(/got logits \[4,3\] and targets \[4,1\]/);
    const l1 = tf.zeros([3]);
    const s = tf.scalar(0, 'int32');
    expect(() => crossEntropy(l1, s)).toThrow(ShapeError);
    expect(() => crossEntropy(l1, s)).toThrow(/got logits \[3\] and targets \[\]/);
    tf.dispose([logits, short, t2, l1, s]);
  });

  it('rejects out-of-range class ids with a RangeError naming the range, value and position', () => {
    const logits = tf.zeros([2, 3, 5]);
    const hi = tf.tensor2d(
      [
        [0, 1, 2],
        [3, 5, 4],
      ],
      undefined,
      'int32',
    );
    const neg = tf.tensor2d(
      [
        [0, -1, 2],
        [3, 4, 4],
      ],
      undefined,
      'int32',
    );
    const before = tf.memory().numTensors;
    expect(() => crossEntropy(logits, hi)).toThrow(RangeError);
    expect(() => crossEntropy(logits, hi)).toThrow(
      /^crossEntropy\(targets\): expected class ids in \[0, 4\], got 5 at flat index 4$/,
    );
    expect(() => crossEntropy(logits, neg)).toThrow(/expected class ids in \[0, 4\], got -1/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([logits, hi, neg]);
  });

  it('rejects unknown options, a non-integer ignoreIndex and disposed tensors', () => {
    const logits = tf.zeros([2, 3]);
    const targets = tf.tensor1d([0, 1], 'int32');
    expect(() => crossEntropy(logits, targets, { ignore_index: 1 } as any)).toThrow(
      /crossEntropy: unknown option "ignore_index" \(did you mean "ignoreIndex"\?\)/,
    );
    expect(() => crossEntropy(logits, targets, { ignoreIndex: 0.5 })).toThrow(
      /crossEntropy\(\{ ignoreIndex \}\): expected an integer, got 0\.5/,
    );
    targets.dispose();
    expect(() => crossEntropy(logits, targets)).toThrow(DisposedError);
    logits.dispose();
  });
});

describe('crossEntropy options: ignoreIndex, labelSmoothing, reduction (PyTorch fixtures)', () => {
  const cases = [
    'ce_smooth_mean_2d',
    'ce_smooth_sum_3d',
    'ce_none_ignore2_3d',
    'ce_smooth_none_2d',
    'ce_smooth_mean_noignore',
    'ce_sum_2d',
  ];
  for (const name of cases) {
    it(`matches PyTorch value and gradient: ${name}`, () => {
      expectParity('loss', name, { crossEntropy });
      const { t, config } = fixture('loss', name);
      const loss = expectNoLeak(
        () => crossEntropy(t['input.logits'], t['input.targets'], config.options),
        1,
      );
      expect(loss.shape).toEqual(
        config.options.reduction === 'none' ? t['input.targets'].shape : [],
      );
      tf.dispose([loss, ...Object.values(t)]);
    });
  }

  it("'none' is 0 on ignored targets, 'sum' is its sum and 'mean' divides by the non-ignored count", () => {
    const logits = tf.tensor2d([
      [1, 2, 3],
      [0, 0, 0],
      [3, -1, 2],
    ]);
    const targets = tf.tensor1d([2, 7, 0], 'int32');
    const opts = { ignoreIndex: 7, labelSmoothing: 0.2 };
    const none = crossEntropy(logits, targets, { ...opts, reduction: 'none' });
    const v = [...none.dataSync()];
    expect(v[1]).toBe(0);
    expect(v[0]).toBeGreaterThan(0);
    const sum = crossEntropy(logits, targets, { ...opts, reduction: 'sum' });
    const mean = crossEntropy(logits, targets, opts);
    expect(sum.dataSync()[0]).toBeCloseTo(v[0] + v[2], 5);
    expect(mean.dataSync()[0]).toBeCloseTo((v[0] + v[2]) / 2, 5);
    tf.dispose([logits, targets, none, sum, mean]);
  });

  it('rejects a bad labelSmoothing or reduction, naming the option', () => {
    const logits = tf.zeros([2, 3]);
    const targets = tf.tensor1d([0, 1], 'int32');
    const before = tf.memory().numTensors;
    expect(() => crossEntropy(logits, targets, { labelSmoothing: 1.5 })).toThrow(
      /crossEntropy\(\{ labelSmoothing \}\): expected a number in \[0, 1\], got 1\.5/,
    );
    expect(() => crossEntropy(logits, targets, { labelSmoothing: Number.NaN })).toThrow(RangeError);
    expect(() => crossEntropy(logits, targets, { reduction: 'avg' as never })).toThrow(
      /crossEntropy\(\{ reduction \}\): expected one of 'mean', 'sum', 'none', got "avg"/,
    );
    expect(() => crossEntropy(logits, targets, { label_smoothing: 0.1 } as never)).toThrow(
      /did you mean "labelSmoothing"/,
    );
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([logits, targets]);
  });
});

describe('mseLoss', () => {
  it('matches PyTorch value and gradient wrt pred', () => {
    expectParity('ops', 'mse', { mseLoss });
    const { t } = fixture('ops', 'mse');
    const loss = expectNoLeak(() => mseLoss(t['input.pred'], t['input.target']), 1);
    expect(loss.rank).toBe(0);
    tf.dispose([loss, ...Object.values(t)]);
  });

  it('is the mean of squared differences for any shape', () => {
    const a = tf.tensor3d([[[1, 2]], [[3, 4]]]);
    const b = tf.tensor3d([[[0, 0]], [[3, 6]]]);
    const loss = mseLoss(a, b);
    expect(loss.dataSync()[0]).toBeCloseTo((1 + 4 + 0 + 4) / 4, 6);
    tf.dispose([a, b, loss]);
  });

  it('rejects mismatched shapes (no broadcasting), non-float and non-tensor inputs', () => {
    const p = tf.zeros([4, 3]);
    const q = tf.zeros([4, 1]);
    expect(() => mseLoss(p, q)).toThrow(ShapeError);
    expect(() => mseLoss(p, q)).toThrow(
      /^mseLoss: expected pred and target of the same shape, got pred \[4,3\] and target \[4,1\]$/,
    );
    const r = tf.zeros([3, 4]);
    expect(() => mseLoss(p, r)).toThrow(/got pred \[4,3\] and target \[3,4\]/);
    const i = tf.zeros([4, 3], 'int32');
    expect(() => mseLoss(p, i)).toThrow(TypeError);
    expect(() => mseLoss(p, i)).toThrow(
      /mseLoss\(target\): expected a float32 tensor, got a int32 tensor/,
    );
    expect(() => mseLoss(i, p)).toThrow(/mseLoss\(pred\): expected a float32 tensor/);
    expect(() => mseLoss(p, 0 as any)).toThrow(/mseLoss\(target\): expected a tf\.Tensor, got 0/);
    expect(() => mseLoss(undefined as any, p)).toThrow(
      /mseLoss\(pred\): expected a tf\.Tensor, got undefined/,
    );
    tf.dispose([p, q, r, i]);
  });
});
