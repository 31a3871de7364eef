import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The trained models of @rnnkit/examples (a workspace dependency; its package exports do not list
// the files): `import url from '@rnnkit/examples/models/x.safetensors?url'` makes Vite copy the file
// into dist/web/assets, so the page fetches it from its own origin.
const modelsDir = fileURLToPath(
  new URL('./node_modules/@rnnkit/examples/models/', import.meta.url),
);

// Cross-origin isolation (crossOriginIsolated, SharedArrayBuffer): @rnnkit/cell's kernel then runs
// large calls on worker threads (see src/web/kernel.ts). Everything the page loads is same-origin,
// blob: or data:, so require-corp blocks nothing. The e2e test serves the built page with the same headers.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

// The page: index.html + src/web (the engine in src/engine is shared with the CLI).
// Built to dist/web; training runs in module workers (format 'es' keeps tfjs's dynamic imports).
export default defineConfig({
  base: './',
  resolve: {
    alias: [{ find: /^@rnnkit\/examples\/models\//, replacement: modelsDir }],
  },
  build: {
    outDir: 'dist/web',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    // Model files are never inlined as data: URLs.
    assetsInlineLimit: (file) => (file.endsWith('.safetensors') ? false : undefined),
  },
  worker: { format: 'es' },
  server: { port: 5173, headers: isolation },
  preview: { port: 4173, headers: isolation },
});
