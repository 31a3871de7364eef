// What window.rnnkitDemo.threadCheck() resolves to (src/web/kernel.ts); the e2e test reads it too.

/** Two forwards of one LSTM, on the kernel's default threads and on one. */
export interface ThreadCheck {
  shape: { batch: number; steps: number; inputSize: number; hiddenSize: number };
  /** Threads of the first forward (the default, setKernelThreads()). */
  threads: number;
  /** Threads of the second forward, after setKernelThreads(1). */
  singleThreads: number;
  /** max |a - b| over the outputs and the final h and c of the two forwards. */
  maxAbsDiff: number;
  /** Values compared. */
  values: number;
  /** Milliseconds per forward (best of `repeats`) with the default threads and with one. */
  msThreads: number;
  msSingle: number;
}
