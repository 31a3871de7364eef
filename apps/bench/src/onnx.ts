/**
 * ONNX Runtime Web (wasm, one thread, in Node) on models that PyTorch exports: export_onnx.py,
 * run with Debian's python3-torch, writes them (and their weights as safetensors) into models/.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import type { CellKind } from './cases.js';
import { SessionCache } from './onnx-sessions.js';

export const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
export const EXPORT_SCRIPT = join(APP_DIR, 'export_onnx.py');
export const DEFAULT_MODELS_DIR = join(APP_DIR, 'models');
export const DEFAULT_PYTHON = '/usr/bin/python3';
/** The (inputSize, hiddenSize) pairs export_onnx.py writes. */
export const ONNX_SIZES: ReadonlyArray<readonly [number, number]> = [
  [300, 256],
  [32, 64],
  [256, 256],
];

export type OnnxModels =
  | { available: true; dir: string; torch: string; exported: boolean }
  | { available: false; reason: string };

export function modelFile(dir: string, cell: CellKind, I: number, H: number, ext: string): string {
  return join(dir, `${cell}_${I}x${H}.${ext}`);
}

/**
 * Makes sure models/ holds the ONNX files and weights of the current export_onnx.py: regenerates
 * them when missing or when the script or torch changed. Without torch, says "no torch".
 * Concurrent runs are safe: each exports into its own temporary folder, then renames files in.
 */
export function ensureOnnxModels(python: string, dir: string): OnnxModels {
  if (!existsSync(python)) return { available: false, reason: 'no torch' };
  const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], {
    encoding: 'utf8',
  });
  if (probe.status !== 0) return { available: false, reason: 'no torch' };
  const torch = probe.stdout.trim();
  const hash = createHash('sha256').update(readFileSync(EXPORT_SCRIPT)).digest('hex');
  const stampFile = join(dir, 'export.json');
  const files = ['rnn', 'lstm', 'gru'].flatMap((cell) =>
    ONNX_SIZES.flatMap(([I, H]) =>
      ['onnx', 'safetensors'].map((ext) => modelFile(dir, cell as CellKind, I, H, ext)),
    ),
  );
  try {
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
    if (stamp.script === hash && stamp.torch === torch && files.every((f) => existsSync(f))) {
      return { available: true, dir, torch, exported: false };
    }
  } catch {
    // no stamp yet: export
  }
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.tmp-${process.pid}-${Date.now()}`);
  try {
    const r = spawnSync(python, ['-W', 'ignore', EXPORT_SCRIPT, tmp], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    if (r.status !== 0) {
      const why = (r.stderr || r.stdout || String(r.error ?? '')).trim().split('\n').pop();
      return { available: false, reason: `export failed: ${why}` };
    }
    for (const f of files) renameSync(join(tmp, f.slice(dir.length + 1)), f);
    writeFileSync(stampFile, `${JSON.stringify({ script: hash, torch })}\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { available: true, dir, torch, exported: true };
}

let configured = false;
const sessions = new SessionCache<ort.InferenceSession>();

/** An ONNX Runtime Web session on the wasm execution provider, one thread (cached per file). */
export function ortSession(path: string): Promise<ort.InferenceSession> {
  if (!configured) {
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'error';
    configured = true;
  }
  return sessions.get(path, () =>
    ort.InferenceSession.create(path, {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    }),
  );
}

export function ortTensor(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

export const ORT_VERSION: string = ort.env.versions.web ?? 'unknown';

export const releaseOrtSessions = (): Promise<void> => sessions.release();
