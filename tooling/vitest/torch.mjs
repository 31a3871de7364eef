// Builders for torch.save checkpoints by hand (pickle opcodes, zip members) and the committed
// PyTorch-written files of tooling/golden/fixtures/torch, for loadTorchCheckpoint's tests.
import { readFileSync } from 'node:fs';
import { FIXTURES } from '@rnnkit/golden';
import { zipSync } from 'fflate';

/** A committed file of tooling/golden/fixtures/torch. */
export function torchFixture(name) {
  return new Uint8Array(readFileSync(`${FIXTURES}torch/${name}`));
}

const enc = new TextEncoder();
const bytes = (...b) => new Uint8Array(b);

/** Pickle opcodes by hand: each helper returns the bytes of one instruction. */
export const op = {
  raw: bytes,
  proto: (v = 2) => bytes(0x80, v),
  stop: () => bytes(0x2e),
  mark: () => bytes(0x28),
  tuple: () => bytes(0x74),
  emptyDict: () => bytes(0x7d),
  emptyList: () => bytes(0x5d),
  emptyTuple: () => bytes(0x29),
  setitem: () => bytes(0x73),
  setitems: () => bytes(0x75),
  append: () => bytes(0x61),
  reduce: () => bytes(0x52),
  binpersid: () => bytes(0x51),
  none: () => bytes(0x4e),
  false: () => bytes(0x89),
  dup: () => bytes(0x32),
  int: (v) => {
    const b = new Uint8Array(5);
    b[0] = 0x4a;
    new DataView(b.buffer).setInt32(1, v, true);
    return b;
  },
  str: (s) => {
    const u = enc.encode(s);
    const b = new Uint8Array(5 + u.length);
    b[0] = 0x58;
    new DataView(b.buffer).setUint32(1, u.length, true);
    b.set(u, 5);
    return b;
  },
  global: (module, name) => enc.encode(`c${module}\n${name}\n`),
  binput: (k) => bytes(0x71, k),
  binget: (k) => bytes(0x68, k),
};

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A tuple of ints: MARK int ... TUPLE */
export function tupleOf(values) {
  return concat(op.mark(), ...values.map(op.int), op.tuple());
}

/** The pickle of _rebuild_tensor_v2(storage(type, key, numel), offset, size, stride, False, OrderedDict()). */
export function tensorPickle(type, key, numel, offset, size, stride) {
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
export function dictPickle(items) {
  const body = Object.entries(items).flatMap(([k, v]) => [op.str(k), v]);
  return concat(op.proto(), op.emptyDict(), op.mark(), ...body, op.setitems(), op.stop());
}

/** A zip-format checkpoint: archive/data.pkl plus archive/data/<key> members (stored unless level > 0). */
export function zipCheckpoint(pickle, storages, level = 0) {
  const files = { 'archive/data.pkl': [pickle, { level }] };
  for (const [k, v] of Object.entries(storages)) files[`archive/data/${k}`] = [v, { level }];
  files['archive/version'] = [enc.encode('3\n'), { level: 0 }];
  return zipSync(files);
}

export function f32(values) {
  return new Uint8Array(new Float32Array(values).buffer);
}
