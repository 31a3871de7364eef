// What the kernel's scripts (kernel-ab.mjs, split-ab.mjs) share: a built kernel's modules, the
// argument lists, and a recurrence laid out in a kernel's memory from repeatable values.
import { readFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
/** This checkout's generated kernel (scripts/build-kernel.mjs). */
export const THIS_KERNEL = new URL('src/wasm/kernel-wasm.ts', root);

/** KERNEL_WASM of a generated kernel-wasm.ts. */
export const kernelOf = (file) =>
  new Function(
    readFileSync(file, 'utf8')
      .replace(/^\/\/.*$/gm, '')
      .replace('export const KERNEL_WASM =', 'return')
      .replace('as const;', ';'),
  )();

/** The argument lists of src/wasm/args.ts (as scripts/build-kernel.mjs reads them). */
export const lists = {};
const argsText = readFileSync(new URL('src/wasm/args.ts', root), 'utf8');
for (const [, name, body] of argsText.matchAll(/export const (\w+) = \[([^\]]*)\] as const;/g))
  lists[name] = [...body.matchAll(/'(\w+)'/g)].map((m) => m[1]);

/** Whether two arrays hold the same values (bits, for Uint32Array views of floats). */
export const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
/** The median of v (v unchanged). */
export const median = (v) => [...v].sort((p, q) => p - q)[v.length >> 1];

/** The words of an argument block with `fields` (0 for a field `values` lacks). */
export const block = (fields, values) => fields.map((f) => values[f] ?? 0);

// The module's static data sits below 64 KiB (as in src/wasm/memory.ts): arguments and buffers above.
export const ARGS = 60000;
export const BASE = 65536;

let seed = 1;
/** Restarts `random` at `s`. */
export const reseed = (s) => {
  seed = s;
};
/** A repeatable number in [-1, 1). */
export function random() {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return (seed / 2 ** 32) * 2 - 1;
}

/**
 * One recurrence of `mode` (a MODES name) laid out in the memory of kernel exports `e`, buffers
 * from BASE on cache lines (as src/wasm/memory.ts lays them out), x, W_hh and b_hh from `random`,
 * W_hh packed; `extra` more buffers (name: floats) after them. Returns the argument values and
 * `reset`, which sets h to 0.1 and c to 0 (and zeroes the `zero` buffers).
 */
export function layOutRecurrence(e, memory, mode, B, T, H, extra = {}, zero = []) {
  const G = (mode === 'lstm' ? 4 : mode === 'gru' ? 3 : 1) * H;
  let at = BASE;
  const alloc = (floats) => {
    const p = at;
    at += Math.ceil(floats / 16) * 64 + 64;
    return p;
  };
  const v = { mode: lists.MODES.indexOf(mode), T, B, H, S: H, G, b1: B };
  Object.assign(v, { x: alloc(T * B * G), w: alloc(G * H), whhT: alloc(Math.ceil(G / 8) * 8 * H) });
  Object.assign(v, { bhh: alloc(G), h: alloc(B * H), c: alloc(B * H), out: alloc(T * B * H) });
  Object.assign(v, { hp: alloc(B * G), gates: alloc(B * G), hn: alloc(B * H) });
  for (const [name, floats] of Object.entries(extra)) v[name] = alloc(floats);
  const f = new Float32Array(memory.buffer);
  reseed(3 + v.mode * 17 + B * 5 + T + H);
  for (let i = 0; i < T * B * G; i++) f[v.x / 4 + i] = random();
  for (let i = 0; i < G * H; i++) f[v.w / 4 + i] = random() * 0.2;
  for (let i = 0; i < G; i++) f[v.bhh / 4 + i] = random();
  e.pack(G, H, v.w, v.whhT);
  const reset = () => {
    f.fill(0.1, v.h / 4, v.h / 4 + B * H);
    f.fill(0, v.c / 4, v.c / 4 + B * H);
    for (const name of zero) f.fill(0, v[name] / 4, v[name] / 4 + extra[name]);
  };
  const out = () => new Uint32Array(memory.buffer, v.out, T * B * H).slice();
  return { v, reset, out };
}
