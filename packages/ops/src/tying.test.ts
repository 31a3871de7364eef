import { expectNoLeak, expectThrows } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Embedding } from './embedding.js';
import { ShapeError, StateDictError } from './errors.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { trainStep } from './train.js';

/** ids [B, T] -> logits [B, T, V]: an embedding and an output layer sharing one [V, E] weight. */
class TinyLM extends Module {
  readonly embedding = this.registerModule('embedding', new Embedding(5, 3));
  readonly decoder = this.registerModule('decoder', new Linear(3, 5));

  constructor() {
    super();
    this.decoder.weight = this.embedding.weight; // as PyTorch
  }

  forward(ids: number[][]): tf.Tensor {
    return tf.tidy(() => this.decoder.forward(tf.tanh(this.embedding.forward(ids))));
  }
}

describe('weight tying (decoder.weight = embedding.weight)', () => {
  it('one parameter: parameters() once, stateDict() under both keys, as PyTorch', () => {
    const lm = new TinyLM();
    expect(lm.decoder.weight).toBe(lm.embedding.weight);
    expect(lm.namedParameters().map(([k]) => k)).toEqual(['embedding.weight', 'decoder.bias']);
    expect(lm.parameters()).toHaveLength(2);
    const sd = lm.stateDict();
    expect(Object.keys(sd)).toEqual(['embedding.weight', 'decoder.weight', 'decoder.bias']);
    expect(Array.from(sd['decoder.weight'].dataSync())).toEqual(
      Array.from(sd['embedding.weight'].dataSync()),
    );
    tf.dispose(Object.values(sd));
    lm.dispose();
  });

  it('the gradient of both uses is accumulated once, in the shared variable', () => {
    const lm = new TinyLM();
    const w = lm.embedding.weight;
    const loss = () => tf.sum(tf.square(lm.forward([[0, 2, 4]]))) as tf.Scalar;
    const { grads, value } = tf.variableGrads(loss, lm.parameters());
    expect(Object.keys(grads)).toHaveLength(2);
    // the same gradient as an untied model with one weight used twice, computed by hand
    const ids = tf.tensor1d([0, 2, 4], 'int32');
    const manual = tf.grad((ww: tf.Tensor) =>
      tf.sum(
        tf.square(
          tf.add(
            tf.matMul(tf.tanh(tf.gather(ww, ids)), ww, false, true),
            lm.decoder.bias as tf.Tensor,
          ),
        ),
      ),
    )(w);
    const got = grads[w.name].dataSync();
    manual.dataSync().forEach((v, i) => {
      expect(Math.abs(v - got[i])).toBeLessThanOrEqual(1e-5);
    });
    const before = Array.from(w.dataSync());
    const opt = tf.train.sgd(0.1);
    trainStep(lm, loss, opt);
    const after = Array.from(lm.decoder.weight.dataSync());
    expect(after).not.toEqual(before);
    expect(Array.from(lm.embedding.weight.dataSync())).toEqual(after);
    tf.dispose([ids, manual, value, ...Object.values(grads)]);
    opt.dispose();
    lm.dispose();
  });

  it('loadStateDict needs and fills both keys (the last wins, as PyTorch)', () => {
    const lm = new TinyLM();
    const sd = {
      'embedding.weight': tf.fill([5, 3], 1),
      'decoder.weight': tf.fill([5, 3], 2),
      'decoder.bias': tf.zeros([5]),
    };
    lm.loadStateDict(sd);
    expect(Array.from(lm.embedding.weight.dataSync())).toEqual(new Array(15).fill(2));
    const { 'decoder.weight': dw, ...partial } = sd;
    expectThrows(() => lm.loadStateDict(partial), StateDictError, [
      'Missing key(s) in state_dict: "decoder.weight"',
    ]);
    expect(lm.loadStateDict(partial, { strict: false }).missingKeys).toEqual(['decoder.weight']);
    expect(Array.from(lm.decoder.weight.dataSync())).toEqual(new Array(15).fill(1));
    tf.dispose([dw, ...Object.values(partial)]);
    lm.dispose();
  });

  it('the shared variable lives until the last module holding it is disposed', () => {
    const before = tf.memory().numTensors;
    const emb = new Embedding(4, 2);
    const out = new Linear(2, 4);
    out.weight = emb.weight; // the Linear's own weight is freed here
    expect(tf.memory().numTensors).toBe(before + 2);
    out.dispose();
    expect(emb.weight.isDisposed).toBe(false);
    expectNoLeak(() => tf.dispose(emb.forward([1])));
    emb.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a parameter of another shape, an unknown name and non-variables', () => {
    const emb = new Embedding(4, 3);
    const out = new Linear(3, 5);
    expectThrows(
      () => {
        out.weight = emb.weight;
      },
      ShapeError,
      ['Linear.tieParameter(param)', 'shape [5,3]', 'got a float32 one of shape [4,3]'],
    );
    expectThrows(() => out.tieParameter('weights', emb.weight), TypeError, [
      'Linear.tieParameter(name)',
      '"weight", "bias"',
      'got "weights"',
    ]);
    const t = tf.ones([5, 3]);
    expectThrows(() => out.tieParameter('weight', t as tf.Variable), TypeError, [
      'expected a live parameter (tf.Variable)',
    ]);
    expect(out.weight.isDisposed).toBe(false);
    tf.dispose(t);
    emb.dispose();
    out.dispose();
  });

  it('onTie: a module keeping its own reference reads the shared parameter once tied; others stay untieable', () => {
    /** Keeps `w` itself (as a recurrence keeps its weight set) and `frozen` without a hook. */
    class Holder extends Module {
      w: tf.Tensor;
      constructor() {
        super();
        this.w = this.registerParameter('w', tf.zeros([2, 3]));
        this.registerParameter('frozen', tf.zeros([2]));
        this.onTie('w', (param) => {
          this.w = param;
        });
      }
      forward(x: tf.Tensor): tf.Tensor {
        return tf.matMul(x, this.w, false, true);
      }
    }
    const h = new Holder();
    const out = new Linear(3, 2, { bias: false });
    h.tieParameter('w', out.weight);
    expect(h.w).toBe(out.weight);
    expect(h.parameters()).toContain(out.weight);
    const other = tf.variable(tf.zeros([2]));
    expectThrows(() => h.tieParameter('frozen', other), TypeError, [
      'Holder.tieParameter(name)',
      'keeps its own references to "frozen"',
    ]);
    h.dispose();
    expect(out.weight.isDisposed).toBe(false);
    tf.dispose(other);
    out.dispose();
  });
});
