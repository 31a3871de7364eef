/**
 * The first module of the browser bench's page: configures tfjs-backend-wasm (its files, its
 * threads from the page's `?threads=` parameter) before any other module's code can create a
 * tensor, which would initialise the backend with its defaults.
 */
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

const search = (globalThis as unknown as { location: { search: string } }).location.search;
setWasmPaths('/tfjs/');
setThreadsCount(Number(new URLSearchParams(search).get('threads') ?? 1));
