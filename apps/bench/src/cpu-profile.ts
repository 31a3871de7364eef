// Self times per function from a V8 CPU profile (profile.ts samples one; the tests build their own),
// and where each function lives: rnnkit's kernel, another WebAssembly module, a package, Node.
import { existsSync, readFileSync } from 'node:fs';
import type { Profiler } from 'node:inspector';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One function's self time, summed over the profiled calls. */
export interface FunctionTime {
  /** The function, e.g. "sgemm", "BackendWasm.readSync", "(garbage collector)". */
  name: string;
  /** Where it lives: a package ("@rnnkit/cell", "tfjs-backend-wasm"), a WebAssembly module
   *  ("recurrence.wasm"), "node:…", or "" for V8's own entries. */
  where: string;
  /** Self time per call (ms). */
  selfMs: number;
  /** Fraction of the sampled time (0..1). */
  share: number;
}

/** The part of a V8 CPU profile read here (Profiler.Profile). */
export type CallFrame = Profiler.ProfileNode['callFrame'];

export type CpuProfile = Pick<
  Profiler.Profile,
  'nodes' | 'startTime' | 'endTime' | 'samples' | 'timeDeltas'
>;

/** V8's entries outside any function, hung from the root: counted wherever they fall. */
const VM_ENTRIES = new Set(['(garbage collector)', '(program)']);

/**
 * Self time per function (functionName + where, see {@link frameWhere}) of a V8 CPU profile: each
 * sample lasts until the next one (the last until the end of the profile), as in Chrome's
 * DevTools. With `within`, only samples with a frame of that name on their stack are kept, plus
 * garbage collection and V8's own work ("(program)"); "(idle)" and "(root)" never count.
 */
export function selfTimes(
  profile: CpuProfile,
  opts: { within?: string; where?: (frame: CallFrame) => string } = {},
): {
  totalUs: number;
  samples: number;
  functions: Array<{ name: string; where: string; selfUs: number; samples: number }>;
} {
  const where = opts.where ?? frameWhere;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Per node: whether its samples count, and its function's key.
  const counts = new Map<number, boolean>();
  const kept = (id: number): boolean => {
    let v = counts.get(id);
    if (v !== undefined) return v;
    const n = nodes.get(id)!;
    const name = n.callFrame.functionName;
    if (name === '(idle)' || name === '(root)') v = false;
    else if (opts.within === undefined || VM_ENTRIES.has(name) || name === opts.within) v = true;
    else {
      const p = parent.get(id);
      v = p !== undefined && kept(p);
    }
    counts.set(id, v);
    return v;
  };
  const groups = new Map<
    string,
    { name: string; where: string; selfUs: number; samples: number }
  >();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let t = profile.startTime;
  let totalUs = 0;
  let count = 0;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    const next = i + 1 < samples.length ? t + (deltas[i + 1] ?? 0) : profile.endTime;
    const id = samples[i]!;
    if (!nodes.has(id) || !kept(id)) continue;
    const frame = nodes.get(id)!.callFrame;
    const w = where(frame);
    const name = functionName(frame);
    const key = `${name}\u0000${w}`;
    const g = groups.get(key) ?? { name, where: w, selfUs: 0, samples: 0 };
    const us = Math.max(0, next - t);
    g.selfUs += us;
    g.samples++;
    groups.set(key, g);
    totalUs += us;
    count++;
  }
  return {
    totalUs,
    samples: count,
    functions: [...groups.values()].sort((a, b) => b.selfUs - a.selfUs),
  };
}

/** A frame's function name: WebAssembly names lose their module prefix ("recurrence/sgemm", "$sgemm"). */
function functionName(frame: CallFrame): string {
  const name = frame.functionName;
  if (frame.url.startsWith('wasm://')) return name.slice(name.indexOf('/') + 1).replace(/^\$/, '');
  return name === '' ? '(anonymous)' : name;
}

/**
 * Where a frame's function lives, short: rnnkit's kernel ("recurrence.wasm": the one module with
 * a name section, whose functions are named after their AssemblyScript file, "sgemm/sgemm",
 * "recurrence/forward"), another WebAssembly module ("wasm"), the npm package of a file
 * ("@rnnkit/cell"; tfjs packages without their "@tensorflow/" scope), a Node built-in
 * ("node:inspector"), or "" for V8's own entries.
 */
export function frameWhere(frame: CallFrame): string {
  const { url, functionName: name } = frame;
  if (url === '') return '';
  if (url.startsWith('wasm://')) return name.indexOf('/') > 0 ? 'recurrence.wasm' : 'wasm';
  if (url.startsWith('file://')) {
    const file = fileURLToPath(url);
    return packageOf(dirname(file)) ?? file.split('/').pop()!;
  }
  if (url.startsWith('node:')) return url;
  return url.split(/[/?#]/).filter(Boolean).pop() ?? url;
}

const packages = new Map<string, string | null>();

/** The name of the nearest package.json's package above `dir` (cached per directory). */
function packageOf(dir: string): string | null {
  const known = packages.get(dir);
  if (known !== undefined) return known;
  let name: string | null = null;
  const file = join(dir, 'package.json');
  if (existsSync(file)) {
    try {
      name = (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name ?? null;
    } catch {
      name = null;
    }
  }
  if (name === null) {
    const up = dirname(dir);
    name = up === dir ? null : packageOf(up);
  }
  name = name?.replace(/^@tensorflow\//, '') ?? null;
  packages.set(dir, name);
  return name;
}
