// Where tfjs-backend-wasm's .wasm files are, in a browser: the "default" condition of the
// "#wasm-files" import in package.json (Node gets wasm-files.node.ts, so no node:* module reaches a
// browser bundle). A page has no file system to look in: tfjs-backend-wasm fetches the files next
// to the page unless `wasmPaths` says where.

/** The tfjs-backend-wasm binaries, by the names `wasmPaths` maps. */
export const WASM_FILES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
] as const;

/** The installed tfjs-backend-wasm's directory; undefined here (tfjs's own default applies). */
export async function installedWasmDir(): Promise<string | undefined> {
  return undefined;
}

/** False when `paths` is a local directory holding none of WASM_FILES; a browser cannot look, so true. */
export async function hasWasmFiles(_paths: string): Promise<boolean> {
  return true;
}
