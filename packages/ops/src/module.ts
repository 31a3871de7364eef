import * as tf from '@tensorflow/tfjs-core';
import { DisposedError, StateDictError } from './errors.js';
import { ensureGradients } from './gradients.js';
import { assertBool, checkOptions, describeValue, fmtShape } from './guards.js';

export type StateDict = Record<string, tf.Tensor>;

export interface LoadStateDictOptions {
  /** Require the keys to match exactly (default true), as PyTorch's `load_state_dict`. */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/**
 * Base class of every rnnkit layer, like `torch.nn.Module`: parameters and child modules are
 * registered by name, so `namedParameters()` and `stateDict()` use PyTorch's dotted keys.
 */
export abstract class Module {
  readonly #params = new Map<string, tf.Variable>();
  readonly #children = new Map<string, Module>();
  #training = true;
  #disposed = false;

  constructor() {
    ensureGradients();
  }

  abstract forward(...args: any[]): unknown;

  /** Takes ownership of `value` and registers it as a trainable parameter called `name`. */
  protected registerParameter(name: string, value: tf.Tensor): tf.Variable {
    const v = tf.variable(value, true);
    value.dispose();
    this.#params.set(name, v);
    return v;
  }

  /** Registers a child module; its parameters appear as `name.<key>`. */
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.#children.set(name, module);
    return module;
  }

  /** Throws DisposedError once the module has been disposed. */
  protected assertAlive(): void {
    if (this.#disposed) {
      throw new DisposedError(
        `${this.constructor.name}: this module was disposed; create a new one`,
      );
    }
  }

  /** Every parameter with its dotted PyTorch name, e.g. "rnn.weight_ih_l0". */
  namedParameters(): Array<[string, tf.Variable]> {
    this.assertAlive();
    const out: Array<[string, tf.Variable]> = [...this.#params];
    for (const [prefix, child] of this.#children) {
      for (const [name, v] of child.namedParameters()) out.push([`${prefix}.${name}`, v]);
    }
    return out;
  }

  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, v]) => v);
  }

  /** A snapshot of every parameter under its PyTorch key; the caller owns (and disposes) the tensors. */
  stateDict(): StateDict {
    const sd: StateDict = {};
    for (const [name, v] of this.namedParameters()) sd[name] = tf.clone(v);
    return sd;
  }

  /**
   * Copies `sd` into the parameters. Missing or unexpected keys (when strict) and shape mismatches
   * (always) throw a StateDictError listing every problem, and leave the module unchanged.
   */
  loadStateDict(sd: StateDict, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const where = `${this.constructor.name}.loadStateDict`;
    checkOptions(opts, where, ['strict']);
    const strict = assertBool(opts.strict ?? true, `${where}({ strict })`);
    if (sd === null || typeof sd !== 'object') {
      throw new TypeError(`${where}(sd): expected an object of tensors, got ${describeValue(sd)}`);
    }
    const own = new Map(this.namedParameters());
    const missingKeys = [...own.keys()].filter((k) => !(k in sd));
    const unexpectedKeys = Object.keys(sd).filter((k) => !own.has(k));
    const shapeMismatches: StateDictError['shapeMismatches'] = [];
    for (const [key, v] of own) {
      if (!(key in sd)) continue;
      const t = sd[key];
      if (!(t instanceof tf.Tensor) || t.isDisposed) {
        throw new TypeError(
          `${where}(sd): "${key}" must be a live tf.Tensor, got ${describeValue(t)}`,
        );
      }
      if (!tf.util.arraysEqual(t.shape, v.shape)) {
        shapeMismatches.push({ key, expected: v.shape, got: t.shape });
      }
    }
    if (
      shapeMismatches.length > 0 ||
      (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0))
    ) {
      const lines = [`Error(s) in loading state_dict for ${this.constructor.name}:`];
      if (strict && missingKeys.length > 0) {
        lines.push(
          `  Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`,
        );
      }
      if (strict && unexpectedKeys.length > 0) {
        lines.push(
          `  Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`,
        );
      }
      for (const m of shapeMismatches) {
        lines.push(
          `  size mismatch for ${m.key}: copying a param with shape ${fmtShape(m.got)} from checkpoint, ` +
            `the shape in current model is ${fmtShape(m.expected)}.`,
        );
      }
      throw new StateDictError(lines.join('\n'), missingKeys, unexpectedKeys, shapeMismatches);
    }
    for (const [key, v] of own) {
      if (!(key in sd)) continue;
      const t = sd[key];
      if (t.dtype === v.dtype) {
        v.assign(t);
      } else {
        const cast = tf.cast(t, v.dtype);
        v.assign(cast);
        cast.dispose();
      }
    }
    return { missingKeys, unexpectedKeys };
  }

  /** Training mode (dropout active) for this module and its children. */
  train(mode = true): this {
    this.#training = assertBool(mode, `${this.constructor.name}.train(mode)`);
    for (const child of this.#children.values()) child.train(mode);
    return this;
  }

  /** Evaluation mode: dropout off. */
  eval(): this {
    return this.train(false);
  }

  get training(): boolean {
    return this.#training;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Frees every parameter; calling it again does nothing. */
  dispose(): void {
    if (this.#disposed) return;
    for (const child of this.#children.values()) child.dispose();
    for (const v of this.#params.values()) v.dispose();
    this.#disposed = true;
  }
}
