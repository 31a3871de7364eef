import { expectNoLeak } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Dropout } from './dropout.js';
import { DisposedError, StateDictError } from './errors.js';
import { Linear } from './linear.js';
import { Module, type StateDict } from './module.js';

/** fc1 -> relu -> dropout -> fc2 (no bias), times a learned per-output scale. */
class Net extends Module {
  readonly scale: tf.Variable;
  readonly fc1: Linear;
  readonly drop: Dropout;
  readonly fc2: Linear;

  constructor() {
    super();
    this.scale = this.registerParameter('scale', tf.ones([2]));
    this.fc1 = this.registerModule('fc1', new Linear(3, 4));
    this.drop = this.registerModule('drop', new Dropout(0.5));
    this.fc2 = this.registerModule('fc2', new Linear(4, 2, { bias: false }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.assertAlive();
    return tf.tidy(() =>
      tf.mul(this.fc2.forward(this.drop.forward(tf.relu(this.fc1.forward(x)))), this.scale),
    );
  }
}

class Outer extends Module {
  readonly net: Net;
  readonly head: Linear;
  constructor() {
    super();
    this.net = this.registerModule('net', new Net());
    this.head = this.registerModule('head', new Linear(2, 1));
  }
  forward(x: tf.Tensor): tf.Tensor {
    this.assertAlive();
    return tf.tidy(() => this.head.forward(this.net.forward(x)));
  }
}

const NET_KEYS = ['scale', 'fc1.weight', 'fc1.bias', 'fc2.weight'];

function snapshot(m: Module): Record<string, number[]> {
  return Object.fromEntries(m.namedParameters().map(([k, v]) => [k, [...v.dataSync()]]));
}

/** A state dict for Net whose values differ from any fresh Net's. */
function netStateDict(): StateDict {
  return {
    scale: tf.tensor1d([2, 3]),
    'fc1.weight': tf.fill([4, 3], 0.25),
    'fc1.bias': tf.fill([4], -0.5),
    'fc2.weight': tf.fill([2, 4], 0.125),
  };
}

describe('Module', () => {
  it('names parameters with dotted PyTorch keys, own parameters first, in registration order', () => {
    const m = new Net();
    const named = m.namedParameters();
    expect(named.map(([k]) => k)).toEqual(NET_KEYS);
    expect(named.map(([, v]) => v.shape)).toEqual([[2], [4, 3], [4], [2, 4]]);
    expect(named[1][1]).toBe(m.fc1.weight);
    expect(m.parameters()).toEqual(named.map(([, v]) => v));
    expect(m.parameters().every((v) => v instanceof tf.Variable && v.trainable)).toBe(true);
    const o = new Outer();
    expect(o.namedParameters().map(([k]) => k)).toEqual([
      ...NET_KEYS.map((k) => `net.${k}`),
      'head.weight',
      'head.bias',
    ]);
    m.dispose();
    o.dispose();
  });

  it('registerParameter takes ownership of the tensor it is given', () => {
    class One extends Module {
      readonly w: tf.Variable;
      constructor(readonly init: tf.Tensor) {
        super();
        this.w = this.registerParameter('w', init);
      }
      forward(): tf.Tensor {
        return tf.clone(this.w);
      }
    }
    const init = tf.tensor1d([1, 2]);
    const before = tf.memory().numTensors;
    const m = new One(init);
    expect(init.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(before); // the variable replaces the tensor
    expect([...m.w.dataSync()]).toEqual([1, 2]);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before - 1);
  });

  it('stateDict is a snapshot the caller owns', () => {
    const m = new Net();
    const sd = expectNoLeak(() => m.stateDict(), 4);
    expect(Object.keys(sd)).toEqual(NET_KEYS);
    const w0 = [...m.fc1.weight.dataSync()];
    expect([...sd['fc1.weight'].dataSync()]).toEqual(w0);
    expect(sd['fc1.weight']).not.toBe(m.fc1.weight);
    // changing the module does not change the snapshot
    m.fc1.weight.assign(tf.zeros([4, 3]));
    m.scale.assign(tf.tensor1d([7, 7]));
    expect([...sd['fc1.weight'].dataSync()]).toEqual(w0);
    expect([...sd.scale.dataSync()]).toEqual([1, 1]);
    // and disposing the snapshot does not touch the module
    tf.dispose(Object.values(sd));
    expect(m.fc1.weight.isDisposed).toBe(false);
    expect([...m.scale.dataSync()]).toEqual([7, 7]);
    m.dispose();
  });

  it('loadStateDict copies values in; the module keeps working after the dict is disposed', () => {
    const m = new Net();
    const sd = netStateDict();
    const res = expectNoLeak(() => m.loadStateDict(sd));
    expect(res).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect([...m.scale.dataSync()]).toEqual([2, 3]);
    expect([...m.fc1.bias!.dataSync()]).toEqual([-0.5, -0.5, -0.5, -0.5]);
    tf.dispose(Object.values(sd));
    m.eval();
    const x = tf.tensor2d([[4, 4, 4]]);
    const y = m.forward(x);
    // fc1: 0.25*12 - 0.5 = 2.5 each; fc2: 0.125*4*2.5 = 1.25; times [2, 3]
    expect([...y.dataSync()]).toEqual([2.5, 3.75]);
    // round trip through stateDict into a second module gives the same outputs
    const n = new Net().eval();
    const sd2 = m.stateDict();
    n.loadStateDict(sd2);
    const y2 = n.forward(x);
    expect([...y2.dataSync()]).toEqual([...y.dataSync()]);
    tf.dispose([x, y, y2, ...Object.values(sd2)]);
    m.dispose();
    n.dispose();
  });

  it('strict loading rejects missing keys, listing each like PyTorch, and changes nothing', () => {
    const m = new Net();
    const before = snapshot(m);
    const sd = netStateDict();
    const { 'fc2.weight': w2, scale, ...partial } = sd;
    let err: unknown;
    try {
      m.loadStateDict(partial);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateDictError);
    const e = err as StateDictError;
    expect(e.name).toBe('StateDictError');
    expect(e.message).toBe(
      'Error(s) in loading state_dict for Net:\n' +
        '  Missing key(s) in state_dict: "scale", "fc2.weight".',
    );
    expect(e.missingKeys).toEqual(['scale', 'fc2.weight']);
    expect(e.unexpectedKeys).toEqual([]);
    expect(e.shapeMismatches).toEqual([]);
    expect(snapshot(m)).toEqual(before);
    tf.dispose([w2, scale, ...Object.values(partial)]);
    m.dispose();
  });

  it('strict loading rejects unexpected keys and changes nothing', () => {
    const m = new Net();
    const before = snapshot(m);
    const sd = {
      ...netStateDict(),
      'fc3.weight': tf.zeros([1]),
      'fc1.running_mean': tf.zeros([4]),
    };
    expect(() => m.loadStateDict(sd)).toThrow(StateDictError);
    expect(() => m.loadStateDict(sd)).toThrow(
      /^Error\(s\) in loading state_dict for Net:\n {2}Unexpected key\(s\) in state_dict: "fc3\.weight", "fc1\.running_mean"\.$/,
    );
    expect(snapshot(m)).toEqual(before);
    tf.dispose(Object.values(sd));
    m.dispose();
  });

  it('rejects shape mismatches (even when not strict), lists every problem, and changes nothing', () => {
    const m = new Net();
    const before = snapshot(m);
    const sd = netStateDict();
    sd['fc1.weight'].dispose();
    sd['fc1.weight'] = tf.zeros([4, 4]);
    sd['fc2.weight'].dispose();
    sd['fc2.weight'] = tf.zeros([4, 2]);
    let err: StateDictError | undefined;
    try {
      m.loadStateDict(sd);
    } catch (e) {
      err = e as StateDictError;
    }
    expect(err).toBeInstanceOf(StateDictError);
    expect(err!.message).toBe(
      [
        'Error(s) in loading state_dict for Net:',
        '  size mismatch for fc1.weight: copying a param with shape [4,4] from checkpoint, the shape in current model is [4,3].',
        '  size mismatch for fc2.weight: copying a param with shape [4,2] from checkpoint, the shape in current model is [2,4].',
      ].join('\n'),
    );
    expect(err!.shapeMismatches).toEqual([
      { key: 'fc1.weight', expected: [4, 3], got: [4, 4] },
      { key: 'fc2.weight', expected: [2, 4], got: [4, 2] },
    ]);
    // scale and fc1.bias were fine but were not loaded either
    expect(snapshot(m)).toEqual(before);
    expect(() => m.loadStateDict(sd, { strict: false })).toThrow(/size mismatch for fc1\.weight/);
    expect(snapshot(m)).toEqual(before);
    // all three kinds in one message
    const { scale, ...rest } = sd;
    const mixed = { ...rest, extra: tf.zeros([1]) };
    expect(() => m.loadStateDict(mixed)).toThrow(
      /Missing key\(s\) in state_dict: "scale"\.\n {2}Unexpected key\(s\) in state_dict: "extra"\.\n {2}size mismatch for fc1\.weight.*\n {2}size mismatch for fc2\.weight/,
    );
    expect(snapshot(m)).toEqual(before);
    tf.dispose([scale, ...Object.values(mixed)]);
    m.dispose();
  });

  it('strict: false loads what matches and reports missing and unexpected keys', () => {
    const m = new Net();
    const before = snapshot(m);
    const sd = netStateDict();
    const { 'fc1.bias': b1, ...partial } = sd;
    const extra = { ...partial, 'fc9.weight': tf.zeros([3]) };
    const res = expectNoLeak(() => m.loadStateDict(extra, { strict: false }));
    expect(res).toEqual({ missingKeys: ['fc1.bias'], unexpectedKeys: ['fc9.weight'] });
    expect([...m.scale.dataSync()]).toEqual([2, 3]);
    expect([...m.fc1.weight.dataSync()]).toEqual(new Array(12).fill(0.25));
    expect([...m.fc1.bias!.dataSync()]).toEqual(before['fc1.bias']);
    tf.dispose([b1, ...Object.values(extra)]);
    m.dispose();
  });

  it('casts int32 tensors to the parameter dtype', () => {
    const m = new Linear(2, 2);
    const w = tf.tensor2d(
      [
        [1, 2],
        [3, 4],
      ],
      undefined,
      'int32',
    );
    const b = tf.tensor1d([-1, 5], 'int32');
    expectNoLeak(() => m.loadStateDict({ weight: w, bias: b }));
    expect(m.weight.dtype).toBe('float32');
    expect(m.bias!.dtype).toBe('float32');
    expect([...m.weight.dataSync()]).toEqual([1, 2, 3, 4]);
    expect([...m.bias!.dataSync()]).toEqual([-1, 5]);
    expect(w.isDisposed).toBe(false);
    tf.dispose([w, b]);
    const x = tf.tensor2d([[1, 1]]);
    const y = m.forward(x);
    expect([...y.dataSync()]).toEqual([2, 12]);
    tf.dispose([x, y]);
    m.dispose();
  });

  it('rejects bad state dicts and options, naming the problem', () => {
    const m = new Net();
    const before = snapshot(m);
    const sd = netStateDict();
    expect(() => m.loadStateDict(sd, { strct: true } as any)).toThrow(TypeError);
    expect(() => m.loadStateDict(sd, { strct: true } as any)).toThrow(
      /Net\.loadStateDict: unknown option "strct"; expected one of "strict"/,
    );
    expect(() => m.loadStateDict(sd, { strict: 'no' } as any)).toThrow(
      /Net\.loadStateDict\(\{ strict \}\): expected true or false, got "no"/,
    );
    expect(() => m.loadStateDict(null as any)).toThrow(
      /Net\.loadStateDict\(sd\): expected an object of tensors, got null/,
    );
    const withArray = { ...sd, scale: [1, 2] } as any;
    expect(() => m.loadStateDict(withArray)).toThrow(
      /Net\.loadStateDict\(sd\): "scale" must be a live tf\.Tensor, got an array of length 2/,
    );
    const dead = tf.ones([2]);
    dead.dispose();
    expect(() => m.loadStateDict({ ...sd, scale: dead })).toThrow(
      /"scale" must be a live tf\.Tensor/,
    );
    expect(snapshot(m)).toEqual(before);
    tf.dispose(Object.values(sd));
    m.dispose();
  });

  it('train/eval propagate to every child and return the module', () => {
    const o = new Outer();
    const all = [o, o.net, o.net.fc1, o.net.drop, o.net.fc2, o.head];
    expect(all.every((m) => m.training)).toBe(true);
    expect(o.eval()).toBe(o);
    expect(all.every((m) => !m.training)).toBe(true);
    expect(o.train()).toBe(o);
    expect(all.every((m) => m.training)).toBe(true);
    o.train(false);
    expect(all.some((m) => m.training)).toBe(false);
    // a child set on its own does not affect its parent
    o.net.train(true);
    expect(o.training).toBe(false);
    expect(o.net.fc1.training).toBe(true);
    expect(() => o.train('yes' as any)).toThrow(
      /Outer\.train\(mode\): expected true or false, got "yes"/,
    );
    expect(o.training).toBe(false);
    o.dispose();
  });

  it('eval mode turns a child dropout off; train mode turns it on', () => {
    const m = new Net();
    const sd = netStateDict();
    m.loadStateDict(sd);
    tf.dispose(Object.values(sd));
    const x = tf.ones([64, 3]);
    // without dropout every output row is [0.125*4*0.25*2, 0.125*4*0.25*3] = [0.25, 0.375]
    m.eval();
    const a = m.forward(x);
    const b = m.forward(x);
    expect([...a.dataSync()]).toEqual([...b.dataSync()]);
    expect([...a.dataSync().slice(0, 2)]).toEqual([0.25, 0.375]);
    m.train();
    const c = m.forward(x);
    const d = m.forward(x);
    expect([...c.dataSync()]).not.toEqual([...d.dataSync()]);
    expect([...c.dataSync()]).not.toEqual([...a.dataSync()]);
    tf.dispose([x, a, b, c, d]);
    m.dispose();
  });

  it('dispose frees every parameter once; later use throws DisposedError', () => {
    const o = new Outer();
    const params = o.parameters();
    const x = tf.ones([1, 3]);
    const before = tf.memory().numTensors;
    o.dispose();
    expect(tf.memory().numTensors).toBe(before - params.length);
    expect(params.every((p) => p.isDisposed)).toBe(true);
    expect(o.disposed).toBe(true);
    expect(o.net.fc1.disposed).toBe(true);
    expect(() => o.dispose()).not.toThrow();
    expect(tf.memory().numTensors).toBe(before - params.length);
    expect(() => o.forward(x)).toThrow(DisposedError);
    expect(() => o.forward(x)).toThrow(/Outer: this module was disposed; create a new one/);
    expect(() => o.net.fc1.forward(x)).toThrow(/Linear: this module was disposed/);
    expect(() => o.namedParameters()).toThrow(DisposedError);
    expect(() => o.parameters()).toThrow(DisposedError);
    expect(() => o.stateDict()).toThrow(DisposedError);
    const sd = { 'head.bias': tf.zeros([1]) };
    expect(() => o.loadStateDict(sd, { strict: false })).toThrow(DisposedError);
    tf.dispose([x, sd['head.bias']]);
  });
});
