/**
 * onnxruntime-node (native, CPU execution provider) on the same exported models as ONNX Runtime
 * Web (onnx.ts), with a given number of intra-op threads, so rnnkit is judged thread for thread.
 */
import * as ort from 'onnxruntime-node';

const sessions = new Map<string, Promise<ort.InferenceSession>>();

/** A session on `path` with `threads` intra-op threads (cached per file and thread count). */
export function ortNodeSession(path: string, threads: number): Promise<ort.InferenceSession> {
  const key = `${threads}:${path}`;
  let s = sessions.get(key);
  if (!s) {
    s = ort.InferenceSession.create(path, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      logSeverityLevel: 3,
      // Idle intra-op threads sleep instead of spinning: spinning, they took the CPU from whichever
      // contender ran next in the interleaved rounds (up to 1.4x slower on this 2-core machine).
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    sessions.set(key, s);
  }
  return s;
}

/** Runs the model (input "x" [B, T, I], output "y" [B, T, H]) and returns y's data. */
export async function ortNodeForward(
  session: ort.InferenceSession,
  x: ort.Tensor,
): Promise<Float32Array> {
  const r = await session.run({ x });
  return r.y!.data as Float32Array;
}

export function ortNodeTensor(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

export const ORT_NODE_VERSION: string = ort.env.versions.node ?? 'unknown';

export async function releaseOrtNodeSessions(): Promise<void> {
  for (const s of sessions.values()) await (await s).release();
  sessions.clear();
}
