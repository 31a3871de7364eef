import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const nodeStub = fileURLToPath(new URL('./src/web/node-stub.ts', import.meta.url));

// The page: index.html + src/web (the engine in src/engine is shared with the CLI).
// Built to dist/web; training runs in module workers (format 'es' keeps tfjs's dynamic imports).
export default defineConfig({
  base: './',
  resolve: {
    // @rnnkit/ops's Node-only branch (finding the .wasm files on disk) never runs in a browser.
    alias: [{ find: /^node:(fs|module|path)$/, replacement: nodeStub }],
  },
  build: {
    outDir: 'dist/web',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
  },
  worker: { format: 'es' },
  server: { port: 5173 },
  preview: { port: 4173 },
});
