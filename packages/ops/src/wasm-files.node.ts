// Where tfjs-backend-wasm's .wasm files are, in Node: the "node" condition of the "#wasm-files"
// import in package.json (browsers get wasm-files.ts). The files are looked for before
// tfjs-backend-wasm sees a path: once its loader has failed it refuses new paths for the rest of
// the process.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WASM_FILES } from './wasm-files.js';

export { WASM_FILES };

/** The installed tfjs-backend-wasm's directory, ending in "/". */
export async function installedWasmDir(): Promise<string | undefined> {
  return `${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'))}/`;
}

/** False when `paths` (a directory path or file: URL) holds none of WASM_FILES; true for http(s), data: and blob: URLs. */
export async function hasWasmFiles(paths: string): Promise<boolean> {
  if (/^(https?|data|blob):/i.test(paths)) return true;
  const dir = /^file:/i.test(paths) ? fileURLToPath(paths) : paths;
  return WASM_FILES.some((f) => existsSync(join(dir, f)));
}
