import * as tf from '@tensorflow/tfjs-core';

interface WasmBackendLike {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}

/**
 * UnsortedSegmentSum for tfjs-backend-wasm, which lacks it. It is the gradient of tf.gather, so
 * without it Embedding (and any gather) cannot train on wasm.
 * x [N, ...inner] (segmentIds [N]) -> [numSegments, ...inner]; ids outside [0, numSegments) are dropped.
 */
const unsortedSegmentSum: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as { numSegments: number };
  const wasm = backend as unknown as WasmBackendLike;
  const inner = x.shape.slice(segmentIds.shape.length).reduce((a, b) => a * b, 1);
  const values = wasm.readSync(x.dataId) as Float32Array | Int32Array;
  const ids = wasm.readSync(segmentIds.dataId) as Int32Array;
  const out = wasm.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
  const acc = wasm.typedArrayFromHeap(out) as Float32Array | Int32Array;
  acc.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    for (let k = 0; k < inner; k++) acc[s * inner + k] += values[i * inner + k];
  }
  return out;
};

/** Registers the kernels rnnkit needs that a backend lacks (wasm: UnsortedSegmentSum). Idempotent. */
export function registerMissingKernels(backendName: string): void {
  if (backendName === 'wasm' && !tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({
      kernelName: 'UnsortedSegmentSum',
      backendName: 'wasm',
      kernelFunc: unsortedSegmentSum,
    });
  }
}
