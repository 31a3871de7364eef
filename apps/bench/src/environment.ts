/** Where a run was measured: the machine, the versions, the commit and the command. */
import { spawnSync } from 'node:child_process';
import { cpus, platform, release } from 'node:os';
import { kernelBuild } from '@rnnkit/cell/internal';
import * as tf from '@tensorflow/tfjs-core';
import { version_layers } from '@tensorflow/tfjs-layers';
import { APP_DIR, type OnnxModels, ORT_VERSION } from './onnx.js';
import { ORT_NODE_VERSION } from './onnx-node.js';
import type { BenchReport } from './report.js';

/** Which rnnkit was measured: the commit, and whether packages/ had uncommitted changes. */
function rnnkitSource(): string {
  const git = (...args: string[]) =>
    spawnSync('git', args, { cwd: APP_DIR, encoding: 'utf8' }).stdout?.trimEnd() ?? '';
  const commit = git('rev-parse', '--short', 'HEAD');
  if (!commit) return 'unknown (not a git checkout)';
  const dirty = git('status', '--porcelain', '--', '../../packages')
    .split('\n')
    .filter((l) => l.trim() !== '');
  if (dirty.length === 0) return `commit ${commit}, packages/ as committed`;
  const dirs = [...new Set(dirty.map((l) => l.slice(3).split('/').slice(0, 2).join('/')))];
  return `commit ${commit} plus uncommitted changes to ${dirty.length} files in ${dirs.join(', ')}`;
}

/** This process's environment; `argv` makes the command shown, `onnx` gives torch's version. */
export function environment(argv: string[], onnx: OnnxModels | null): BenchReport['environment'] {
  const cpu = cpus();
  return {
    rnnkit: rnnkitSource(),
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    node: process.version,
    platform: `${platform()} ${release()}`,
    cpu: cpu[0]?.model?.trim() ?? 'unknown cpu',
    cores: cpu.length,
    tfjsCore: tf.version_core,
    tfjsLayers: version_layers,
    onnxruntimeWeb: ORT_VERSION,
    onnxruntimeNode: ORT_NODE_VERSION,
    kernelBuild: kernelBuild() ?? 'none',
    torch: onnx?.available ? onnx.torch : null,
    command:
      process.env.npm_lifecycle_event === 'bench'
        ? 'pnpm bench'
        : ['rnnkit-bench', ...argv].join(' '),
  };
}
