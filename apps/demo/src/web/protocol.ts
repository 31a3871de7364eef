import type { BackendName } from '@rnnkit/ops';
import type { StepInfo, TrainAddingOptions, TrainAddingResult } from '../engine/index.js';

/** Page -> training worker. */
export type ToWorker =
  | {
      type: 'train';
      backend: BackendName;
      options: Omit<TrainAddingOptions, 'onStep' | 'signal' | 'shouldStop'>;
    }
  | { type: 'stop' };

/** Training worker -> page. */
export type FromWorker =
  | {
      type: 'started';
      cell: string;
      backend: string;
      /** Threads of the kernel in the worker, and its description ("WebAssembly SIMD, 2 threads"). */
      kernelThreads: number;
      kernel: string;
    }
  | { type: 'progress'; cell: string; steps: StepInfo[] }
  | { type: 'done'; result: Omit<TrainAddingResult, 'losses' | 'gradNorms'> }
  | { type: 'error'; cell: string; message: string };
