/**
 * PyTorch's training step as a bench contender: torch_train.py in a Python process that stays up
 * for the whole case; each call asks it for one step over a pipe (about 0.1 ms of the call).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveSafetensors } from '@rnnkit/ops';
import type * as tf from '@tensorflow/tfjs-core';
import type { CellKind } from './cases.js';
import { APP_DIR } from './onnx.js';

export const TORCH_SCRIPT = join(APP_DIR, 'torch_train.py');

/** True when `python` exists and imports torch. */
export function hasTorch(python: string): boolean {
  return existsSync(python) && spawnSync(python, ['-c', 'import torch']).status === 0;
}

/** A running torch_train.py: `step()` runs one training step and resolves to its loss. */
export interface TorchTrainer {
  step(): Promise<number>;
  close(): void;
}

/**
 * Starts PyTorch on `threads` threads with the state dict `sd` (PyTorch keys), input x [B, T, I]
 * and target y [B, T, H]; resolves once it is ready.
 */
export async function torchTrainer(
  python: string,
  cell: CellKind,
  threads: number,
  sd: Record<string, tf.Tensor>,
  x: tf.Tensor,
  y: tf.Tensor,
): Promise<TorchTrainer> {
  const dir = mkdtempSync(join(tmpdir(), 'rnnkit-bench-torch-'));
  const file = join(dir, 'case.safetensors');
  writeFileSync(file, saveSafetensors({ ...sd, x, y }));
  const child: ChildProcess = spawn(
    python,
    ['-W', 'ignore', TORCH_SCRIPT, cell, String(threads), file],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, OMP_NUM_THREADS: String(threads) },
    },
  );
  let buffered = '';
  let stderr = '';
  const waiting: Array<{ ok: (line: string) => void; fail: (e: Error) => void }> = [];
  const failAll = (e: Error) => {
    for (const w of waiting.splice(0)) w.fail(e);
  };
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  child.stdout!.on('data', (d) => {
    buffered += d;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      waiting.shift()?.ok(line);
    }
  });
  child.on('exit', (code) => {
    rmSync(dir, { recursive: true, force: true });
    failAll(new Error(`torch_train.py exited (${code}): ${stderr.trim().split('\n').pop() ?? ''}`));
  });
  child.on('error', failAll);
  const next = () => new Promise<string>((ok, fail) => waiting.push({ ok, fail }));
  const ready = await next();
  if (ready !== 'ready') throw new Error(`torch_train.py: expected "ready", got ${ready}`);
  return {
    step: async () => {
      const line = next();
      child.stdin!.write('1\n');
      return Number(await line);
    },
    close: () => {
      child.stdin!.end();
    },
  };
}
