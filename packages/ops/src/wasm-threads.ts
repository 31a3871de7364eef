import * as tf from '@tensorflow/tfjs-core';

/** How long tfjs-backend-wasm's threaded start may take before rnnkit starts it on one thread. */
export const THREADED_START_MS = 20_000;
let warned = false;

/**
 * The message of an error tfjs-backend-wasm's pthread workers raised in the page (emscripten
 * rethrows a worker's ErrorEvent there), else null.
 */
function workerError(e: ErrorEvent): string | null {
  const ErrorEventClass = (globalThis as { ErrorEvent?: typeof ErrorEvent }).ErrorEvent;
  if (ErrorEventClass !== undefined && e.error instanceof ErrorEventClass) return e.error.message;
  if (/^blob:/.test(e.filename ?? '') || /worker sent an error/.test(e.message ?? '')) {
    return e.message;
  }
  return null;
}

let swallowing = false;

/**
 * Marks the errors of tfjs-backend-wasm's failed pthread workers handled from now on (the others
 * fail after the first): uncaught, each would reach the console as an error, and in a worker the
 * page's `worker.onerror`, as though the worker itself had failed.
 */
function swallowWorkerErrors(g: Partial<EventTarget>): void {
  if (swallowing) return;
  swallowing = true;
  g.addEventListener?.('error', (e) => {
    if (workerError(e as ErrorEvent) !== null) e.preventDefault();
  });
}

/**
 * Activates tfjs-backend-wasm, threaded where tfjs would use threads unless `threads` is false.
 * Its threaded build starts Web Workers from its own function source (`factory.toString()`), which
 * minifiers (Vite 8 and webpack 5 production builds) break: the workers throw "e is not defined"
 * and tfjs waits forever. An error from those workers, or no start within THREADED_START_MS, makes
 * rnnkit start the backend again on one thread, with one console warning; their errors are marked
 * handled. Resolves to tfjs's setBackend result.
 */
export async function startWasm(threads: boolean): Promise<boolean> {
  const env = tf.env();
  if (!threads) env.set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const g = globalThis as unknown as Partial<EventTarget>;
  if (!(await env.getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) || !g.addEventListener) {
    return tf.setBackend('wasm');
  }
  let onError: (e: Event) => void = () => {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  const failed = new Promise<string>((resolve) => {
    onError = (e) => {
      const message = workerError(e as ErrorEvent);
      if (message === null) return;
      e.preventDefault();
      resolve(message);
    };
    g.addEventListener?.('error', onError);
    timer = setTimeout(
      () => resolve(`no start within ${THREADED_START_MS / 1000} s`),
      THREADED_START_MS,
    );
  });
  try {
    const first = await Promise.race([
      tf.setBackend('wasm').then((ok) => ({ ok })),
      failed.then((reason) => ({ reason })),
    ]);
    if ('ok' in first) return first.ok;
    if (!warned) {
      warned = true;
      console.warn(
        `rnnkit: tfjs-backend-wasm's threaded workers failed (${first.reason}); the wasm backend runs on one thread. ` +
          `A minifier usually breaks them (see "Bundlers" in rnnkit's README); setBackend('wasm', { threads: false }) skips the attempt.`,
      );
    }
    env.set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    swallowWorkerErrors(g);
    return tf.setBackend('wasm');
  } finally {
    g.removeEventListener?.('error', onError);
    clearTimeout(timer);
  }
}
