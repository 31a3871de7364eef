import { expectParity } from '@rnnkit/vitest-config/helpers';
import {
  concat,
  dictPickle,
  f32,
  op,
  tensorPickle,
  torchFixture,
  zipCheckpoint,
} from '@rnnkit/vitest-config/torch';
import * as tf from '@tensorflow/tfjs-core';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { ModelFileError, PickleSecurityError, RnnkitError } from '../errors.js';
import { saveSafetensors } from '../safetensors.js';
import { loadTorchCheckpoint } from './checkpoint.js';

const FIXTURES = [
  'rnn',
  'lstm',
  'gru',
  'linear',
  'embedding',
  'nested',
  'parameters',
  'dtypes',
  'views',
  'shared',
  'legacy',
  'protocol4',
];

/** Loads, expecting `cls`; returns the error. Checks that no tensor was left behind. */
function loadError(bytes: Uint8Array, cls: new (...a: any[]) => Error = ModelFileError): Error {
  const before = tf.memory().numTensors;
  try {
    tf.dispose(Object.values(loadTorchCheckpoint(bytes)));
  } catch (e) {
    expect(e).toBeInstanceOf(cls);
    // one error family, recognised across copies of rnnkit
    expect(RnnkitError.isInstance(e)).toBe(true);
    expect((cls as unknown as typeof RnnkitError).isInstance(e)).toBe(true);
    expect((e as Error).name).toBe(cls.name);
    expect(tf.memory().numTensors).toBe(before);
    return e as Error;
  }
  throw new Error('expected loadTorchCheckpoint to throw');
}

describe('loadTorchCheckpoint on files written by PyTorch 1.13 (tooling/golden/fixtures/torch)', () => {
  // every tensor by dotted key, bit for bit, in rnnkit's dtype for the torch dtype (tooling/golden
  // checks/torch.mjs, which the harness runs too)
  for (const name of FIXTURES) {
    it(`${name}.pt: every tensor, keyed by dotted path, with PyTorch's values`, () => {
      expectParity('torch', `${name}.pt`, { loadTorchCheckpoint });
    });
  }

  it('keys nested checkpoints by path and skips non-tensor leaves', () => {
    const got = loadTorchCheckpoint(torchFixture('nested.pt'));
    const keys = Object.keys(got);
    expect(keys).toContain('model.0.weight');
    expect(keys).toContain('model.1.weight_hh_l0');
    expect(keys).toContain('optimizer.state.0.exp_avg');
    expect(keys).toContain('optimizer.state.4.exp_avg_sq');
    expect(
      keys.some((k) => k.startsWith('epoch') || k.startsWith('history') || k.startsWith('note')),
    ).toBe(false);
    expect(keys.some((k) => k.startsWith('optimizer.param_groups'))).toBe(false);
    tf.dispose(Object.values(got));
  });

  it('reads views: transposes, slices with offsets, steps, stride-0 expansions and shared storages', () => {
    const v = loadTorchCheckpoint(torchFixture('views.pt'));
    expect(v.transposed.shape).toEqual([6, 4]);
    expect(v.sliced.shape).toEqual([2, 3]);
    expect(v.strided.shape).toEqual([4, 3]);
    expect(v.row.shape).toEqual([6]);
    // the row is row 2 of the transposed base's transpose
    expect(Array.from(v.row.dataSync())).toEqual(
      Array.from(tf.tidy(() => tf.slice(tf.transpose(v.transposed), [2, 0], [1, 6])).dataSync()),
    );
    const e = v.expanded.arraySync() as number[][];
    for (const row of e) expect(new Set(row).size).toBe(1);
    const s = loadTorchCheckpoint(torchFixture('shared.pt'));
    expect(Array.from(s.b.dataSync())).toEqual(Array.from(s.a.dataSync()).slice(2, 6));
    expect(Array.from(s.d.dataSync())).toEqual(Array.from(s.a.dataSync()).slice(5));
    // separate tensors: disposing one leaves the others
    s.a.dispose();
    expect(s.c.dataSync().length).toBe(10);
    tf.dispose([...Object.values(v), s.b, s.c, s.d]);
  });
});

describe('loadTorchCheckpoint refuses hostile pickles without running them', () => {
  for (const name of ['hostile_os_system', 'hostile_eval', 'hostile_legacy']) {
    it(`${name}.pt: PickleSecurityError naming the global`, () => {
      const { refused } = JSON.parse(new TextDecoder().decode(torchFixture(`${name}.json`)));
      const e = loadError(torchFixture(`${name}.pt`), PickleSecurityError) as PickleSecurityError;
      expect(e.global).toBe(refused);
      expect(e.message).toContain(`the global ${refused}, which is not allowed`);
      expect(e.message).toContain('nothing in the file was run');
    });
  }

  it('refuses globals however they are named: GLOBAL, STACK_GLOBAL, INST, extension codes', () => {
    const stackGlobal = concat(
      op.proto(4),
      op.str('subprocess'),
      op.str('Popen'),
      op.raw(0x93),
      op.stop(),
    );
    const inst = concat(
      op.proto(0),
      op.mark(),
      op.str('id'),
      op.raw(...new TextEncoder().encode('ibuiltins\nexec\n')),
      op.stop(),
    );
    const ext = concat(op.proto(), op.raw(0x82, 7), op.stop());
    const nested = dictPickle({
      ok: op.int(1),
      bad: concat(op.global('torch', 'load'), op.stop()),
    });
    for (const [pkl, name] of [
      [stackGlobal, 'subprocess.Popen'],
      [inst, 'builtins.exec'],
      [ext, 'extension code 7'],
      [nested, 'torch.load'],
    ] as const) {
      const e = loadError(zipCheckpoint(pkl, {}), PickleSecurityError) as PickleSecurityError;
      expect(e.global).toBe(name);
    }
  });

  it('does not call allowed globals other than as torch does', () => {
    const call = dictPickle({
      s: concat(op.global('torch', 'FloatStorage'), op.emptyTuple(), op.reduce()),
    });
    expect(loadError(zipCheckpoint(call, {})).message).toMatch(
      /torch\.FloatStorage is allowed only as a storage type/,
    );
  });
});

describe('loadTorchCheckpoint on files that are not checkpoints', () => {
  const cases: Array<[string, () => Uint8Array, RegExp]> = [
    [
      'a safetensors file',
      () => torchFixture('linear.safetensors'),
      /this is a safetensors file without rnnkit\.config \(a bare state dict\); expected a torch\.save checkpoint .*; read it with loadSafetensors$/,
    ],
    [
      'an rnnkit model file',
      () => saveSafetensors({}, { 'rnnkit.config': '{"format":1}' }),
      /this is an rnnkit model file \(safetensors with rnnkit\.config\); expected a torch\.save checkpoint .*; load it with loadModel from @rnnkit\/heads$/,
    ],
    [
      'an ONNX file',
      () => torchFixture('not_a_checkpoint.onnx'),
      /this is an ONNX model \(protobuf\); expected a torch\.save checkpoint/,
    ],
    [
      'a zip without a pickle',
      () => zipSync({ 'weights.npy': new Uint8Array(8), 'b.txt': new Uint8Array(1) }),
      /this is a zip archive without a data\.pkl pickle \(2 members: "weights\.npy", "b\.txt"\); expected a torch\.save checkpoint/,
    ],
    [
      'a TorchScript archive',
      () =>
        zipSync({
          'm/data.pkl': dictPickle({}),
          'm/code/__torch__.py': new Uint8Array(1),
          'm/constants.pkl': new Uint8Array(1),
        }),
      /this is a TorchScript archive \(torch\.jit\.save\).*; save the weights with torch\.save\(model\.state_dict\(\), path\) instead$/,
    ],
    [
      'a plain pickle',
      () => concat(op.proto(4), op.emptyDict(), op.stop()),
      /this is a Python pickle that is not a torch\.save checkpoint; expected/,
    ],
    [
      'an empty file',
      () => new Uint8Array(0),
      /this is an empty file; expected a torch\.save checkpoint/,
    ],
    [
      'a gzip file',
      () => new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0]),
      /this is a gzip file; expected a torch\.save checkpoint/,
    ],
    [
      'random bytes',
      () => new TextEncoder().encode('hello world'),
      /this is an unrecognised file \(first bytes 68 65 6c 6c 6f 20 77 6f\)/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    it(`says what ${what} is and what was expected`, () => {
      expect(loadError(bytes()).message).toMatch(message);
    });
  }

  it('rejects what is not a Uint8Array with a TypeError naming the argument', () => {
    expect(() => loadTorchCheckpoint('model.pt' as any)).toThrow(
      /loadTorchCheckpoint\(bytes\): expected a Uint8Array, got "model\.pt"/,
    );
    expect(() => loadTorchCheckpoint(null as any)).toThrow(TypeError);
  });
});

describe('loadTorchCheckpoint on malformed and hostile archives', () => {
  const t = (
    numel: number,
    offset: number,
    size: number[],
    stride: number[],
    type = 'FloatStorage',
    key = '0',
  ) => tensorPickle(type, key, numel, offset, size, stride);

  it('reads a hand-built checkpoint, stored or deflated', () => {
    for (const level of [0, 6] as const) {
      const bytes = zipCheckpoint(
        dictPickle({ w: t(6, 1, [2, 2], [1, 2]) }),
        { '0': f32([0, 1, 2, 3, 4, 5]) },
        level,
      );
      const { w } = loadTorchCheckpoint(bytes);
      expect(w.arraySync()).toEqual([
        [1, 3],
        [2, 4],
      ]);
      w.dispose();
    }
  });

  const bad: Array<[string, () => Uint8Array, RegExp]> = [
    [
      'a storage smaller than its declared size',
      () => zipCheckpoint(dictPickle({ w: t(6, 0, [6], [1]) }), { '0': f32([1, 2]) }),
      /tensor "w": its storage holds 8 bytes, but 6 FloatStorage elements need 24/,
    ],
    [
      'a view past its storage',
      () => zipCheckpoint(dictPickle({ w: t(4, 2, [2, 2], [2, 1]) }), { '0': f32([1, 2, 3, 4]) }),
      /tensor "w": size \[2,2\] with stride \[2,1\] from offset 2 reaches past its storage of 4 elements/,
    ],
    [
      'a missing storage member',
      () => zipCheckpoint(dictPickle({ w: t(1, 0, [1], [1]) }), {}),
      /the archive has no "archive\/data\/0" for a tensor's storage/,
    ],
    [
      'size and stride of different lengths',
      () => zipCheckpoint(dictPickle({ w: t(4, 0, [2, 2], [1]) }), { '0': f32([1, 2, 3, 4]) }),
      /size has 2 dimensions but stride has 1/,
    ],
    [
      'a stride-0 expansion beyond the output limit',
      () =>
        zipCheckpoint(dictPickle({ w: t(1, 0, [2 ** 20, 2 ** 10], [0, 0]) }), { '0': f32([1]) }),
      /the tensors hold more than 268435456 elements/,
    ],
    [
      'one key as two storages',
      () =>
        zipCheckpoint(dictPickle({ a: t(1, 0, [1], [1]), b: t(1, 0, [1], [1], 'HalfStorage') }), {
          '0': f32([1]),
        }),
      /storage "0" is referred to as two different storages/,
    ],
    [
      'an int64 outside int32',
      () =>
        zipCheckpoint(
          dictPickle({ a: t(1, 0, [1], [1]), i: t(1, 0, [1], [1], 'LongStorage', '1') }),
          { '0': f32([1]), '1': new Uint8Array(new BigInt64Array([2n ** 40n]).buffer) },
        ),
      /storage "1": I64 value 1099511627776 at flat index 0 does not fit in int32/,
    ],
    [
      'two tensors with the same dotted key',
      () =>
        zipCheckpoint(
          concat(
            op.proto(),
            op.emptyDict(),
            op.mark(),
            op.str('a.b'),
            t(1, 0, [1], [1]),
            op.str('a'),
            op.emptyDict(),
            op.str('b'),
            t(1, 0, [1], [1]),
            op.setitem(),
            op.setitems(),
            op.stop(),
          ),
          { '0': f32([1]) },
        ),
      /two tensors have the dotted key "a\.b"/,
    ],
    [
      'a dict that contains itself',
      () =>
        zipCheckpoint(
          concat(
            op.proto(),
            op.emptyDict(),
            op.binput(0),
            op.str('me'),
            op.binget(0),
            op.setitem(),
            op.stop(),
          ),
          {},
        ),
      /a container contains itself \(at "me"\)/,
    ],
    [
      'containers nested too deep',
      () =>
        zipCheckpoint(
          concat(
            op.proto(),
            ...Array.from({ length: 2000 }, op.emptyList),
            ...Array.from({ length: 1999 }, op.append),
            op.stop(),
          ),
          {},
        ),
      /nested deeper than 1000/,
    ],
    [
      'tensors shared 2^30 times through nested tuples',
      () =>
        zipCheckpoint(
          dictPickle({
            a: concat(t(1, 0, [1], [1]), ...Array.from({ length: 30 }, () => op.raw(0x32, 0x86))),
          }),
          { '0': f32([1]) },
        ),
      /the checkpoint holds more than 100000 tensor entries/,
    ],
    [
      'a stack too deep',
      () => zipCheckpoint(concat(op.proto(), new Uint8Array(1_000_001).fill(0x28)), {}),
      /malformed pickle at byte \d+: stack deeper than 1000000/,
    ],
    [
      'a truncated pickle',
      () => zipCheckpoint(dictPickle({ w: t(1, 0, [1], [1]) }).subarray(0, 40), { '0': f32([1]) }),
      /malformed pickle at byte \d+: truncated/,
    ],
    [
      'an unknown opcode',
      () => zipCheckpoint(concat(op.proto(), op.raw(0xff)), {}),
      /unsupported opcode 0xff/,
    ],
    [
      'a memo key never stored',
      () => zipCheckpoint(concat(op.proto(), op.binget(9), op.stop()), {}),
      /memo key 9 was never stored/,
    ],
    [
      'a big-endian checkpoint',
      () =>
        zipSync({
          'archive/data.pkl': dictPickle({}),
          'archive/byteorder': new TextEncoder().encode('big'),
        }),
      /big-endian machine; only little-endian is supported/,
    ],
    [
      'a member declared larger than deflate can produce',
      () => {
        const z = zipCheckpoint(dictPickle({ w: t(1, 0, [1], [1]) }), { '0': f32([1]) }, 6);
        return setDeclaredSize(z, 'archive/data/0', 2 ** 31 - 2);
      },
      /zip member "archive\/data\/0" declares 2147483646 bytes from \d+ stored bytes, more than deflate can produce/,
    ],
    [
      'duplicate member names',
      () => {
        const z = zipSync({
          'archive/data.pkl': dictPickle({}),
          'archive/data.pkX': dictPickle({}),
        });
        return renameAll(z, 'archive/data.pkX', 'archive/data.pkl');
      },
      /the zip archive holds "archive\/data\.pkl" twice/,
    ],
    [
      'a truncated archive',
      () => torchFixture('nested.pt').subarray(0, 3000),
      /the zip archive is malformed or truncated/,
    ],
    [
      'a truncated legacy file',
      () => torchFixture('legacy.pt').subarray(0, 1500),
      /the file is truncated (inside|before) storage/,
    ],
  ];
  for (const [what, bytes, message] of bad) {
    it(`rejects ${what} with ModelFileError, quickly`, () => {
      const input = bytes();
      const t0 = performance.now();
      expect(loadError(input).message).toMatch(message);
      // a second at most even for the megabyte-sized ones, on a loaded machine
      expect(performance.now() - t0).toBeLessThan(1000);
    });
  }

  it('skips long lists of numbers (a loss history) and reuses containers the pickle shares', () => {
    // 1.5 million ints in a list, appended 1000 at a time as Python's pickle does, and one dict
    // of two tensors under two keys
    const chunk = concat(
      op.mark(),
      ...Array.from({ length: 1000 }, (_, i) => op.raw(0x4b, i % 256)),
      op.raw(0x65),
    );
    const ints = concat(...Array.from({ length: 1500 }, () => chunk));
    const shared = concat(
      op.emptyDict(),
      op.mark(),
      op.str('w'),
      t(2, 0, [2], [1]),
      op.str('v'),
      t(2, 1, [1], [1]),
      op.setitems(),
      op.binput(7),
    );
    const pkl = concat(
      op.proto(),
      op.emptyDict(),
      op.mark(),
      op.str('losses'),
      op.emptyList(),
      ints,
      op.str('a'),
      shared,
      op.str('b'),
      op.binget(7),
      op.setitems(),
      op.stop(),
    );
    const out = loadTorchCheckpoint(zipCheckpoint(pkl, { '0': f32([3, 4]) }));
    expect(Object.keys(out)).toEqual(['a.w', 'a.v', 'b.w', 'b.v']);
    expect(Array.from(out['b.w'].dataSync())).toEqual([3, 4]);
    expect(Array.from(out['b.v'].dataSync())).toEqual([4]);
    tf.dispose(Object.values(out));
  });

  it('never inflates a member the pickle does not use (a zip bomb beside a valid checkpoint)', () => {
    const bomb = new Uint8Array(16 * 2 ** 20); // 16 MiB of zeros deflates to ~16 KiB
    const bytes = zipSync({
      'archive/data.pkl': [dictPickle({}), { level: 0 }],
      'archive/data/9': [bomb, { level: 9 }],
    });
    expect(bytes.length).toBeLessThan(50_000);
    const t0 = performance.now();
    expect(loadTorchCheckpoint(bytes)).toEqual({});
    expect(performance.now() - t0).toBeLessThan(200);
  });
});

/** Rewrites the declared uncompressed size of member `name` in its local and central headers. */
function setDeclaredSize(zip: Uint8Array, name: string, size: number): Uint8Array {
  const out = zip.slice();
  const v = new DataView(out.buffer);
  const n = new TextEncoder().encode(name);
  for (let i = 0; i + 4 < out.length; i++) {
    const sig = v.getUint32(i, true);
    const [nameAt, sizeAt] = sig === 0x04034b50 ? [30, 22] : sig === 0x02014b50 ? [46, 24] : [0, 0];
    if (nameAt && out.subarray(i + nameAt, i + nameAt + n.length).every((b, j) => b === n[j]))
      v.setUint32(i + sizeAt, size, true);
  }
  return out;
}

/** Replaces every occurrence of one name by another of the same length (headers only hold names). */
function renameAll(zip: Uint8Array, from: string, to: string): Uint8Array {
  const text = Array.from(zip, (b) => String.fromCharCode(b)).join('');
  return Uint8Array.from(text.split(from).join(to), (c) => c.charCodeAt(0));
}
