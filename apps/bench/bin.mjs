#!/usr/bin/env node
// The command's launcher: it exists before the build, so `pnpm install` can link it; it runs the
// built CLI (dist/bin.js, from `pnpm build`).
await import('./dist/bin.js');
