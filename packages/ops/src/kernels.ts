import * as tf from '@tensorflow/tfjs-core';

type Values = Float32Array | Int32Array;
type Numeric = Float32Array | Int32Array | Uint8Array;

interface WasmBackendLike {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}

interface CpuBackendLike {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Values): tf.TensorInfo;
}

/** UnsortedSegmentSum's inputs: x [N, ...inner], segmentIds [N]; output [numSegments, ...inner]. */
function segmentArgs({ inputs, attrs }: Parameters<tf.KernelFunc>[0]) {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as { numSegments: number };
  const rest = x.shape.slice(segmentIds.shape.length);
  const inner = rest.reduce((a, b) => a * b, 1);
  return { x, segmentIds, numSegments, inner, shape: [numSegments, ...rest] };
}

/**
 * out [numSegments, inner] = the sums of the rows of values [N, inner] by segment ids [N], in one
 * pass, each added in row order into a double (as tfjs-backend-cpu's sums); ids outside
 * [0, numSegments) are dropped.
 */
function segmentSums(values: Values, ids: Values, inner: number, numSegments: number, out: Values) {
  const sums = new Float64Array(out.length);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    for (let k = 0; k < inner; k++) sums[s * inner + k]! += values[i * inner + k]!;
  }
  out.set(sums);
}

/** UnsortedSegmentSum for tfjs-backend-wasm, which lacks it (without it no gather can train). */
const wasmSegmentSum: tf.KernelFunc = (args) => {
  const { x, segmentIds, numSegments, inner, shape } = segmentArgs(args);
  const wasm = args.backend as unknown as WasmBackendLike;
  const out = wasm.makeOutput(shape, x.dtype);
  const values = wasm.readSync(x.dataId) as Values;
  const ids = wasm.readSync(segmentIds.dataId) as Values;
  segmentSums(values, ids, inner, numSegments, wasm.typedArrayFromHeap(out) as Values);
  return out;
};

/**
 * UnsortedSegmentSum for tfjs-backend-cpu, in place of its own, which runs a masked sum over all
 * of x for each segment (numSegments x N x inner, and a transpose each): the gradient of a gather
 * of B rows out of B * T (the "last" pooling) took most of a training step there.
 */
const cpuSegmentSum: tf.KernelFunc = (args) => {
  const { x, segmentIds, numSegments, inner, shape } = segmentArgs(args);
  const cpu = args.backend as unknown as CpuBackendLike;
  const acc =
    x.dtype === 'int32'
      ? new Int32Array(numSegments * inner)
      : new Float32Array(numSegments * inner);
  const values = cpu.readSync(x.dataId) as Values;
  segmentSums(values, cpu.readSync(segmentIds.dataId) as Values, inner, numSegments, acc);
  return cpu.makeTensorInfo(shape, x.dtype, acc);
};

/** The elements between neighbours along each axis of a row-major [shape]. */
function rowMajorStrides(shape: number[]): number[] {
  const strides = new Array<number>(shape.length);
  for (let d = shape.length - 1, s = 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  return strides;
}

/**
 * Steps the row-major counter `at` over `dims` by one (the last fastest, wrapping to 0) and the
 * offset `i`, whose stride along dims[k] is strides[k], with it; returns the new offset.
 */
function advance(at: number[], dims: number[], strides: number[], i: number): number {
  for (let k = dims.length - 1; k >= 0; k--) {
    i += strides[k]!;
    if (++at[k]! < dims[k]!) return i;
    i -= strides[k]! * dims[k]!;
    at[k] = 0;
  }
  return i;
}

/**
 * out = values [shape] with its axes in the order `perm` (out's axis k is values' axis perm[k]):
 * rows of the output's last axis, each read with one stride, the other axes counted like an
 * odometer.
 */
export function transposeValues(values: Numeric, shape: number[], perm: number[], out: Numeric) {
  const rank = shape.length;
  const strides = rowMajorStrides(shape);
  const outShape = perm.map((p) => shape[p]!);
  const step = perm.map((p) => strides[p]!);
  const last = rank - 1;
  const n = rank ? outShape[last]! : 1;
  const inner = rank ? step[last]! : 0;
  // The other output axes, counted row-major.
  const outer = outShape.slice(0, last);
  const outerSteps = step.slice(0, last);
  const at = new Array<number>(outer.length).fill(0);
  let base = 0;
  for (let o = 0; o < out.length; o += n) {
    for (let j = 0, i = base; j < n; j++, i += inner) out[o + j] = values[i]!;
    base = advance(at, outer, outerSteps, base);
  }
}

/**
 * tfjs-backend-cpu's own kernels that rnnkit's replace, by name: they run the dtypes rnnkit's do
 * not take (string, complex64).
 */
const cpuOwn: Record<string, tf.KernelFunc> = {};

/**
 * Transpose for tfjs-backend-cpu, in place of its own, which finds each element's place through
 * arrays allocated per element (a 32 x 32 transpose took 25-60 µs, most of a small model's
 * training step, and twice that once a minifier rewrote its `new Array(n)` as `Array(n)`).
 */
const cpuTranspose: tf.KernelFunc = (args) => {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === 'string' || x.dtype === 'complex64') return cpuOwn.Transpose!(args);
  const { perm } = args.attrs as unknown as { perm: number[] };
  const cpu = args.backend as unknown as CpuBackendLike;
  const values = cpu.readSync(x.dataId) as Numeric;
  const out = new (values.constructor as new (n: number) => Numeric)(values.length);
  transposeValues(values, x.shape, perm, out);
  return cpu.makeTensorInfo(
    perm.map((p) => x.shape[p]!),
    x.dtype,
    out as Values,
  );
};

/**
 * out = values [shape] summed over `axes`, in tfjs's order: each output's terms over the reduced
 * axes in the order given, row-major, added into a double; the outputs over the other axes,
 * row-major.
 */
export function sumValues(values: Numeric, shape: number[], axes: number[], out: Numeric) {
  const strides = rowMajorStrides(shape);
  const kept = shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const terms = axes.map((d) => shape[d]!);
  const termStrides = axes.map((d) => strides[d]!);
  const count = terms.reduce((a, b) => a * b, 1);
  const outShape = kept.map((d) => shape[d]!);
  const keptStrides = kept.map((d) => strides[d]!);
  const outAt = new Array<number>(kept.length).fill(0);
  const termAt = new Array<number>(axes.length);
  let base = 0;
  for (let o = 0; o < out.length; o++) {
    let sum = 0;
    termAt.fill(0);
    for (let j = 0, i = base; j < count; j++) {
      sum += values[i]!;
      i = advance(termAt, terms, termStrides, i);
    }
    out[o] = sum;
    base = advance(outAt, outShape, keptStrides, base);
  }
}

/**
 * Sum for tfjs-backend-cpu, in place of its own, which first transposes x (with the slow transpose
 * above) whenever the reduced axes are not the innermost: a bias's gradient, summed over the batch,
 * is that case in every training step. Adds in tfjs's order (the reduced axes in the order given,
 * row-major, into a double), so the sums are the same bits.
 */
const cpuSum: tf.KernelFunc = (args) => {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === 'complex64' || x.dtype === 'string') return cpuOwn.Sum!(args);
  const { axis, keepDims } = args.attrs as unknown as {
    axis: number | number[];
    keepDims: boolean;
  };
  const cpu = args.backend as unknown as CpuBackendLike;
  const { shape } = x;
  const axes = tf.util.parseAxisParam(axis, shape);
  const outShape = shape.filter((_, d) => !axes.includes(d));
  const dtype = tf.upcastType(x.dtype, 'int32');
  const size = outShape.reduce((a, b) => a * b, 1);
  const out = dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  sumValues(cpu.readSync(x.dataId) as Numeric, shape, axes, out);
  const finalShape = keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
  return cpu.makeTensorInfo(finalShape, dtype, out);
};

/** rnnkit's kernels, by backend and kernel name. */
const KERNELS: Record<string, Record<string, tf.KernelFunc>> = {
  wasm: { UnsortedSegmentSum: wasmSegmentSum },
  cpu: { UnsortedSegmentSum: cpuSegmentSum, Transpose: cpuTranspose, Sum: cpuSum },
};

/**
 * Registers rnnkit's kernels for `backendName`: UnsortedSegmentSum (the gradient of tf.gather:
 * Embedding, pooling, packed sequences) where the backend lacks it (wasm) or has a slow one (cpu),
 * and on cpu Transpose and Sum; each replaces the backend's own, with the same results (tfjs's
 * segment sum also adds every other row times 0, so an Inf or NaN in one row made every segment
 * NaN). Idempotent.
 */
export function registerKernels(backendName: string): void {
  for (const [kernelName, kernelFunc] of Object.entries(KERNELS[backendName] ?? {})) {
    const have = tf.getKernel(kernelName, backendName);
    if (have?.kernelFunc === kernelFunc) continue;
    if (have) {
      if (backendName === 'cpu') cpuOwn[kernelName] = have.kernelFunc;
      tf.unregisterKernel(kernelName, backendName);
    }
    tf.registerKernel({ kernelName, backendName, kernelFunc });
  }
}
