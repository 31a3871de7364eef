import { readFileSync } from 'node:fs';
import { FIXTURES } from '@rnnkit/golden';
import { zipSync } from 'fflate';

/** A committed file of tooling/golden/fixtures/torch. */
export function torchFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(`${FIXTURES}torch/${name}`));
}

const enc = new TextEncoder();

/** Pickle opcodes by hand: each helper returns the bytes of one instruction. */
export const op = {
  raw: (...b: number[]) => new Uint8Array(b),
  proto: (v = 2) => new Uint8Array([0x80, v]),
  stop: () => new Uint8Array([0x2e]),
  mark: () => new Uint8Array([0x28]),
  tuple: () => new Uint8Array([0x74]),
  emptyDict: () => new Uint8Array([0x7d]),
  emptyList: () => new Uint8Array([0x5d]),
  emptyTuple: () => new Uint8Array([0x29]),
  setitem: () => new Uint8Array([0x73]),
  setitems: () => new Uint8Array([0x75]),
  append: () => new Uint8Array([0x61]),
  reduce: () => new Uint8Array([0x52]),
  binpersid: () => new Uint8Array([0x51]),
  none: () => new Uint8Array([0x4e]),
  false: () => new Uint8Array([0x89]),
  dup: () => new Uint8Array([0x32]),
  int: (v: number) => {
    const b = new Uint8Array(5);
    b[0] = 0x4a;
    new DataView(b.buffer).setInt32(1, v, true);
    return b;
  },
  str: (s: string) => {
    const u = enc.encode(s);
    const b = new Uint8Array(5 + u.length);
    b[0] = 0x58;
    new DataView(b.buffer).setUint32(1, u.length, true);
    b.set(u, 5);
    return b;
  },
  global: (module: string, name: string) => enc.encode(`c${module}\n${name}\n`),
  binput: (k: number) => new Uint8Array([0x71, k]),
  binget: (k: number) => new Uint8Array([0x68, k]),
};

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** (size tuple) e.g. [2, 3] -> MARK int int TUPLE */
export function tupleOf(values: number[]): Uint8Array {
  return concat(op.mark(), ...values.map(op.int), op.tuple());
}

/** The pickle of _rebuild_tensor_v2(storage(type, key, numel), offset, size, stride, False, OrderedDict()). */
export function tensorPickle(
  type: string,
  key: string,
  numel: number,
  offset: number,
  size: number[],
  stride: number[],
): Uint8Array {
  return concat(
    op.global('torch._utils', '_rebuild_tensor_v2'),
    op.mark(),
    op.mark(),
    op.str('storage'),
    op.global('torch', type),
    op.str(key),
    op.str('cpu'),
    op.int(numel),
    op.tuple(),
    op.binpersid(),
    op.int(offset),
    tupleOf(size),
    tupleOf(stride),
    op.false(),
    op.global('collections', 'OrderedDict'),
    op.emptyTuple(),
    op.reduce(),
    op.tuple(),
    op.reduce(),
  );
}

/** A whole pickle: PROTO 2, a dict of `items` (key -> value bytes), STOP. */
export function dictPickle(items: Record<string, Uint8Array>): Uint8Array {
  const body = Object.entries(items).flatMap(([k, v]) => [op.str(k), v]);
  return concat(op.proto(), op.emptyDict(), op.mark(), ...body, op.setitems(), op.stop());
}

/** A zip-format checkpoint: archive/data.pkl plus archive/data/<key> members (stored unless level > 0). */
export function zipCheckpoint(
  pickle: Uint8Array,
  storages: Record<string, Uint8Array>,
  level: 0 | 6 = 0,
): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 | 6 }]> = {
    'archive/data.pkl': [pickle, { level }],
  };
  for (const [k, v] of Object.entries(storages)) files[`archive/data/${k}`] = [v, { level }];
  files['archive/version'] = [enc.encode('3\n'), { level: 0 }];
  return zipSync(files);
}

export function f32(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}
