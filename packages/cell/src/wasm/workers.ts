/**
 * Where worker threads can run the kernel and how to start one: Node's worker_threads, or Web
 * Workers in a cross-origin isolated page (SharedArrayBuffer); nowhere else.
 */

/** True where SharedArrayBuffer can be shared with workers. */
export function threadsPossible(): boolean {
  const g = globalThis as { crossOriginIsolated?: boolean };
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return false;
  return isNode() || g.crossOriginIsolated === true;
}

/** threadMayBlock, probed once per thread (it does not change; a layout asks once per share). */
let mayBlock: boolean | undefined;

/**
 * True when this thread may block in Atomics.wait: Node, a worker; not a browser's main thread
 * (nor where there is no SharedArrayBuffer).
 */
export function threadMayBlock(): boolean {
  mayBlock ??= probeMayBlock();
  return mayBlock;
}

function probeMayBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** Threads this machine runs at once (Node: os.availableParallelism; browsers: hardwareConcurrency). */
export async function hardwareThreads(): Promise<number> {
  if (isNode()) {
    const os = (await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_OS)) as {
      availableParallelism(): number;
    };
    return os.availableParallelism();
  }
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return nav?.hardwareConcurrency ?? 1;
}

// Module names in variables (and webpackIgnore), so that bundlers for the browser leave them alone.
const NODE_OS = 'node:os';
const NODE_WORKERS = 'node:worker_threads';

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

export type Started = { terminate(): unknown };
export type Spawn = (source: string, data: object) => Started;

/** How to start a worker from source text here, or null where there is no way. */
export async function spawner(): Promise<Spawn | null> {
  if (isNode()) {
    const { Worker } = (await import(
      /* @vite-ignore */ /* webpackIgnore: true */ NODE_WORKERS
    )) as {
      Worker: new (
        src: string,
        o: { eval: boolean; workerData: object },
      ) => Started & { unref(): void };
    };
    return (source, data) => {
      const w = new Worker(source, { eval: true, workerData: data });
      // Idle workers must not keep the process alive.
      w.unref();
      return w;
    };
  }
  const g = globalThis as {
    Worker?: new (url: string) => Started & { postMessage(d: object): void };
  };
  if (!g.Worker || typeof Blob === 'undefined' || typeof URL?.createObjectURL !== 'function')
    return null;
  const W = g.Worker;
  return (source, data) => {
    const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
    const w = new W(url);
    w.postMessage(data);
    return w;
  };
}
