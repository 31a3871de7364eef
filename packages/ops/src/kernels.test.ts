// rnnkit's kernels (kernels.ts), registered by setBackend on this project's backend (the test
// setup's): UnsortedSegmentSum, summing by segment in one pass (on cpu in place of tfjs's own),
// and on cpu Transpose.
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { registerKernels, sumValues, transposeValues } from './kernels.js';

describe('UnsortedSegmentSum', () => {
  it('sums the rows of x by segment id, drops ids out of range, float32 and int32', () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [4, 1, 3]);
    const ids = tf.tensor1d([2, 0, 2, 5], 'int32');
    const sums = tf.unsortedSegmentSum(x, ids, 3);
    expect(sums.shape).toEqual([3, 1, 3]);
    expect(Array.from(sums.dataSync())).toEqual([4, 5, 6, 0, 0, 0, 8, 10, 12]);
    const xi = tf.tensor1d([1, -2, 30], 'int32');
    const ids2 = tf.tensor1d([1, 1, 0], 'int32');
    const si = tf.unsortedSegmentSum(xi, ids2, 2);
    expect(si.dtype).toBe('int32');
    expect(Array.from(si.dataSync())).toEqual([30, -1]);
    // Added into a double: 1e8 + 1 + 1 - 1e8 is 2 (in float32 steps it would be 0).
    const big = tf.tensor1d([1e8, 1, 1, -1e8]);
    const zeros = tf.tensor1d([0, 0, 0, 0], 'int32');
    const bigSum = tf.unsortedSegmentSum(big, zeros, 1);
    expect(Array.from(bigSum.dataSync())).toEqual([2]);
    tf.dispose([x, ids, sums, xi, ids2, si, big, zeros, bigSum]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("is gather's gradient: each gathered row's gradient lands on its source row, summed", () => {
    const table = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    const dy = tf.tensor2d([1, 10, 100, 1000, 7, 8], [3, 2]);
    const idx = tf.tensor1d([2, 0, 2], 'int32');
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, idx), dy)))(table);
    expect(Array.from(g.dataSync())).toEqual([100, 1000, 0, 0, 8, 18]);
    tf.dispose([table, dy, idx, g]);
  });

  it("is rnnkit's kernel on this backend, registered once however often setBackend runs", () => {
    const name = tf.getBackend();
    const mine = tf.getKernel('UnsortedSegmentSum', name)!.kernelFunc;
    registerKernels(name);
    expect(tf.getKernel('UnsortedSegmentSum', name)!.kernelFunc).toBe(mine);
    expect(mine.toString()).toMatch(/segmentArgs/);
  });
});

/** A shape (dims minDim to 4) and some of its axes in any order (`all`: every axis, a permutation). */
const shapeAndAxes = (o: { minDim: number; maxRank: number; all: boolean }) =>
  fc.array(fc.integer({ min: o.minDim, max: 4 }), { maxLength: o.maxRank }).chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      axes: fc.shuffledSubarray(
        shape.map((_, i) => i),
        { minLength: o.all ? shape.length : 0, maxLength: shape.length },
      ),
    }),
  );

/** values [shape] transposed by `perm`, element by element from the definition. */
function reference(values: number[], shape: number[], perm: number[]): number[] {
  const outShape = perm.map((p) => shape[p]!);
  const size = values.length;
  const out = new Array<number>(size);
  for (let o = 0; o < size; o++) {
    // Output coordinates of o, then the input's: input axis perm[k] is output axis k.
    const at = new Array<number>(shape.length);
    let r = o;
    for (let k = outShape.length - 1; k >= 0; k--) {
      at[perm[k]!] = r % outShape[k]!;
      r = Math.floor(r / outShape[k]!);
    }
    let i = 0;
    for (let d = 0; d < shape.length; d++) i = i * shape[d]! + at[d]!;
    out[o] = values[i]!;
  }
  return out;
}

describe('transpose', () => {
  it('property: any shape of rank 0 to 5 and any permutation move every value where the definition puts it', () => {
    const cases = shapeAndAxes({ minDim: 0, maxRank: 5, all: true });
    fc.assert(
      fc.property(cases, ({ shape, axes: perm }) => {
        const size = shape.reduce((a, b) => a * b, 1);
        const values = Float32Array.from({ length: size }, (_, i) => i + 0.5);
        const out = new Float32Array(size);
        transposeValues(values, shape, perm, out);
        expect(Array.from(out)).toEqual(reference(Array.from(values), shape, perm));
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  it('tf.transpose of float32, int32 and bool tensors, with no tensor left over', () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor3d(
      Array.from({ length: 24 }, (_, i) => i),
      [2, 3, 4],
    );
    const t = tf.transpose(x, [2, 0, 1]);
    expect(t.shape).toEqual([4, 2, 3]);
    expect(Array.from(t.dataSync())).toEqual(
      reference(Array.from(x.dataSync()), [2, 3, 4], [2, 0, 1]),
    );
    const b = tf.tensor2d([true, false, false, true, true, false], [2, 3], 'bool');
    const bt = tf.transpose(b);
    expect(bt.dtype).toBe('bool');
    expect(Array.from(bt.dataSync())).toEqual([1, 1, 0, 1, 0, 0]);
    const i = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
    const it2 = tf.transpose(i);
    expect(it2.dtype).toBe('int32');
    expect(Array.from(it2.dataSync())).toEqual([1, 3, 2, 4]);
    tf.dispose([x, t, b, bt, i, it2]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("is rnnkit's kernel on cpu (complex64 passed to tfjs's), the backend's own elsewhere", () => {
    const name = tf.getBackend();
    const fn = tf.getKernel('Transpose', name)!.kernelFunc.toString();
    expect(/transposeValues/.test(fn)).toBe(name === 'cpu');
    if (name !== 'cpu') return; // complex64: cpu only, where rnnkit's hands it to tfjs's own
    tf.tidy(() => {
      const c = tf.complex(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]));
      const ct = tf.transpose(c);
      expect(Array.from(tf.real(ct).dataSync())).toEqual([1, 3, 2, 4]);
      expect(Array.from(tf.imag(ct).dataSync())).toEqual([5, 7, 6, 8]);
    });
  });
});

/**
 * tfjs's Sum from its definition: x transposed so that the reduced axes (in the order given) come
 * last, then each row's values added in order into a double.
 */
function sumReference(values: number[], shape: number[], axes: number[]): number[] {
  const kept = shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const perm = [...kept, ...axes];
  const moved = reference(values, shape, perm);
  const count = axes.reduce((a, d) => a * shape[d]!, 1);
  const out: number[] = [];
  const outputs = kept.reduce((a, d) => a * shape[d]!, 1);
  for (let o = 0; o < outputs; o++) {
    let sum = 0;
    for (let j = 0; j < count; j++) sum += moved[o * count + j]!;
    out.push(Math.fround(sum));
  }
  return out;
}

describe('sum', () => {
  it("property: any shape of rank 0 to 4 and any axes in any order give tfjs's sums to the bit", () => {
    const cases = fc.record({
      drawn: shapeAndAxes({ minDim: 1, maxRank: 4, all: false }),
      seed: fc.integer({ min: 0, max: 1000 }),
    });
    fc.assert(
      fc.property(cases, ({ drawn: { shape, axes }, seed }) => {
        const size = shape.reduce((a, b) => a * b, 1);
        // Terms of 1e17, -1e17 and small ones: which small ones survive depends on the order of
        // the additions, even in a double (1e17 + 1 - 1e17 is 0, 1e17 - 1e17 + 1 is 1).
        const pick = [1e17, -1e17, 1, 3, 0.25];
        const values = Float32Array.from({ length: size }, (_, i) => pick[(i * 7 + seed) % 5]!);
        const outputs = shape.reduce((a, n, d) => (axes.includes(d) ? a : a * n), 1);
        const out = new Float32Array(outputs);
        sumValues(values, shape, axes, out);
        expect(Array.from(out)).toEqual(sumReference(Array.from(values), shape, axes));
      }),
      { numRuns: 300, seed: 12 },
    );
  });

  it('tf.sum: bool and int32 into int32, keepDims, and the bias gradient of a batch (axis 0)', () => {
    const before = tf.memory().numTensors;
    const b = tf.tensor2d([true, false, true, true, true, false], [2, 3], 'bool');
    const bs = tf.sum(b, 0);
    expect(bs.dtype).toBe('int32');
    expect(Array.from(bs.dataSync())).toEqual([2, 1, 1]);
    const i = tf.tensor2d([1, -2, 3, 4], [2, 2], 'int32');
    const is = tf.sum(i, 1, true);
    expect(is.shape).toEqual([2, 1]);
    expect(Array.from(is.dataSync())).toEqual([-1, 7]);
    const zeros = tf.zeros([3]);
    const bias = tf.variable(zeros);
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.add(x, v), x)))(bias);
    expect(Array.from(g.dataSync())).toEqual([5, 7, 9]);
    tf.dispose([b, bs, i, is, zeros, bias, x, g]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
