/**
 * onnxruntime-node (native, CPU execution provider) on the same exported models as ONNX Runtime
 * Web (onnx.ts), with a given number of intra-op threads, so rnnkit is judged thread for thread.
 */
import * as ort from 'onnxruntime-node';
import { SessionCache } from './onnx-sessions.js';

const sessions = new SessionCache<ort.InferenceSession>();

/** A session on `path` with `threads` intra-op threads (cached per file and thread count). */
export function ortNodeSession(path: string, threads: number): Promise<ort.InferenceSession> {
  return sessions.get(`${threads}:${path}`, () =>
    ort.InferenceSession.create(path, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      logSeverityLevel: 3,
      // Idle intra-op threads sleep instead of spinning: spinning, they took the CPU from whichever
      // contender ran next in the interleaved rounds (up to 1.4x slower on this 2-core machine).
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    }),
  );
}

export function ortNodeTensor(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

export const ORT_NODE_VERSION: string = ort.env.versions.node ?? 'unknown';

export const releaseOrtNodeSessions = (): Promise<void> => sessions.release();
