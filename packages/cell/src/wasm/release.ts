import { loadedExports, reinstantiate } from './loader.js';
import { forgetWeights, memoryBytes } from './memory.js';
import { kernelWorkers, restartPool } from './threads.js';

/**
 * Gives the WebAssembly kernel's memory back: the memory grows to the largest call made so far
 * and, being WebAssembly memory, never shrinks; this replaces it with a fresh one (128 KiB) and a
 * fresh instance of the kernel, drops the packed weights cached in it (packed again on their next
 * use) and restarts the worker threads, as many as before, on the new memory. Resolves once the
 * new memory is in use. Calls made meanwhile run as usual, on the old memory and one thread.
 */
export async function releaseKernelMemory(): Promise<void> {
  let swapped = () => {};
  const whenSwapped = new Promise<void>((resolve) => {
    swapped = resolve;
  });
  const workers = restartPool(whenSwapped);
  try {
    await reinstantiate(forgetWeights);
  } finally {
    swapped();
  }
  await workers;
}

/** What the kernel holds now: bytes of WebAssembly memory and worker threads (for tests, soak runs). */
export function kernelMemory(): { bytes: number; workers: number } {
  const k = loadedExports();
  return { bytes: k ? memoryBytes(k) : 0, workers: kernelWorkers() };
}
