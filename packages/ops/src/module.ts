import * as tf from '@tensorflow/tfjs-core';
import { DisposedError, ShapeError, StateDictError } from './errors.js';
import { assertBool, checkOptions, describeValue, fmtShape } from './guards.js';
import { assertGradientsIfRecording } from './recording.js';

/** Parameters by PyTorch's dotted key (`"weight_ih_l0"`, `"linear1.bias"`), as `state_dict()`. */
export type StateDict = Record<string, tf.Tensor>;

/** How many modules hold each parameter (more than one when tied); it is freed by the last. */
const holders = new WeakMap<tf.Variable, number>();

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /**
   * Require the keys to match exactly, as PyTorch's `load_state_dict`.
   * @default true
   */
  strict?: boolean;
}

/** What {@link Module.loadStateDict} did not load, as PyTorch's result. */
export interface LoadStateDictResult {
  /** The module's keys the state dict lacked (always empty when strict). */
  missingKeys: string[];
  /** The state dict's keys the module does not have (always empty when strict). */
  unexpectedKeys: string[];
}

/**
 * Base class of every rnnkit layer, like `torch.nn.Module`: parameters and child modules are
 * registered by name, so `namedParameters()` and `stateDict()` use PyTorch's dotted keys.
 * @example
 * ```ts
 * class Classifier extends Module {
 *   readonly rnn = this.registerModule('rnn', new GRU({ inputSize: 8, hiddenSize: 16, batchFirst: true }));
 *   readonly fc = this.registerModule('fc', new Linear(16, 2));
 *   forward(x: tf.Tensor): tf.Tensor {
 *     this.assertAlive();
 *     return tf.tidy(() => this.fc.forward(tf.mean(this.rnn.forward(x)[0], 1)));
 *   }
 * }
 * new Classifier().stateDict(); // keys rnn.weight_ih_l0, ..., fc.weight, fc.bias
 * ```
 */
export abstract class Module {
  readonly #params = new Map<string, tf.Variable>();
  readonly #children = new Map<string, Module>();
  /** What each tieable parameter's onTie hook does once it is tied (see onTie). */
  readonly #onTie = new Map<string, (param: tf.Variable) => void>();
  #training = true;
  #disposed = false;

  /** The module's computation; each subclass documents its shapes. */
  abstract forward(...args: any[]): unknown;

  /**
   * Takes ownership of `value` and registers it as a parameter called `name`, trainable unless
   * `trainable` is false (a frozen parameter: listed, saved and loaded, but trainStep skips it).
   */
  protected registerParameter(name: string, value: tf.Tensor, trainable = true): tf.Variable {
    const v = tf.variable(value, trainable);
    value.dispose();
    this.#params.set(name, v);
    holders.set(v, 1);
    return v;
  }

  /** The parameter registered as `name` (the shared one once tied). */
  protected parameter(name: string): tf.Variable {
    return this.#params.get(name)!;
  }

  /** Whether `name` may be tied: it has an onTie hook, or (override) is read via parameter(). */
  protected canTie(name: string): boolean {
    return this.#onTie.has(name);
  }

  /**
   * Makes parameter `name` tieable by a module that keeps its own reference to it (e.g. a weight set
   * the recurrence reads): once tied, `use(param)` makes that reference the shared parameter.
   */
  protected onTie(name: string, use: (param: tf.Variable) => void): void {
    this.#onTie.set(name, use);
  }

  /**
   * Weight tying, as PyTorch's `lm.decoder.weight = lm.embedding.weight`: parameter `name` becomes
   * `param` (a parameter of another module, same shape), and this module's own is freed. The shared
   * parameter is listed once by parameters() (its gradient is accumulated once), appears under both
   * keys in stateDict(), and is freed when the last module holding it is disposed.
   */
  tieParameter(name: string, param: tf.Variable): void {
    this.assertAlive();
    const where = `${this.constructor.name}.tieParameter`;
    const own = this.#params.get(name);
    if (own === undefined) {
      throw new TypeError(
        `${where}(name): expected one of ${[...this.#params.keys()].map((k) => `"${k}"`).join(', ')}, got ${describeValue(name)}`,
      );
    }
    if (!this.canTie(name)) {
      throw new TypeError(
        `${where}(name): ${this.constructor.name} keeps its own references to "${name}", so it cannot be tied`,
      );
    }
    if (!(param instanceof tf.Variable) || param.isDisposed) {
      throw new TypeError(
        `${where}(param): expected a live parameter (tf.Variable) of another module, got ${describeValue(param)}`,
      );
    }
    if (!tf.util.arraysEqual(param.shape, own.shape) || param.dtype !== own.dtype) {
      throw new ShapeError(
        `${where}(param): expected a ${own.dtype} parameter of shape ${fmtShape(own.shape)} (as "${name}"), got a ${param.dtype} one of shape ${fmtShape(param.shape)}`,
      );
    }
    if (param === own) return;
    release(own);
    holders.set(param, (holders.get(param) ?? 1) + 1);
    this.#params.set(name, param);
    this.#onTie.get(name)?.(param);
  }

  /** Registers a child module; its parameters appear as `name.<key>`. */
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.#children.set(name, module);
    return module;
  }

  /**
   * Throws DisposedError once the module has been disposed, and a clear error when a gradient is
   * recorded through it before `ensureGradients()` (every forward starts with this check).
   */
  protected assertAlive(): void {
    if (this.#disposed) {
      throw new DisposedError(
        `${this.constructor.name}: this module was disposed; create a new one`,
      );
    }
    for (const [name, v] of this.#params) {
      if (v.isDisposed)
        throw new DisposedError(
          `${this.constructor.name}: parameter "${name}" (shape ${fmtShape(v.shape)}) was disposed outside the module; create a new module (or do not dispose its parameters)`,
        );
    }
    assertGradientsIfRecording(`${this.constructor.name}.forward`);
  }

  /** Every key with its parameter, tied ones under each of their keys. */
  #allNamed(): Array<[string, tf.Variable]> {
    this.assertAlive();
    const out: Array<[string, tf.Variable]> = [...this.#params];
    for (const [prefix, child] of this.#children) {
      for (const [name, v] of child.#allNamed()) out.push([`${prefix}.${name}`, v]);
    }
    return out;
  }

  /**
   * Every parameter with its dotted PyTorch name, e.g. "rnn.weight_ih_l0"; a tied parameter once,
   * under its first name (as PyTorch's named_parameters()).
   */
  namedParameters(): Array<[string, tf.Variable]> {
    const seen = new Set<tf.Variable>();
    const out: Array<[string, tf.Variable]> = [];
    for (const [name, v] of this.#allNamed()) {
      if (seen.has(v)) continue;
      seen.add(v);
      out.push([name, v]);
    }
    return out;
  }

  /** Every parameter once (tied ones too), in namedParameters() order, for optimizers and tf.variableGrads. */
  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, v]) => v);
  }

  /**
   * A snapshot of every parameter under its PyTorch key (a tied one under each of its keys, as
   * PyTorch); the caller owns (and disposes) the tensors.
   */
  stateDict(): StateDict {
    const sd: StateDict = {};
    for (const [name, v] of this.#allNamed()) sd[name] = tf.clone(v);
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
    if (sd === null || typeof sd !== 'object' || sd instanceof Map) {
      const hint = sd instanceof Map ? ' (use Object.fromEntries(map))' : '';
      throw new TypeError(
        `${where}(sd): expected an object of tensors, got ${describeValue(sd)}${hint}`,
      );
    }
    // every key, tied ones too: both are expected and both are copied (the last wins, as PyTorch)
    const own = new Map(this.#allNamed());
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

  /** True in training mode (the default), false after eval(). */
  get training(): boolean {
    return this.#training;
  }

  /** True once dispose() was called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Frees every parameter; calling it again does nothing. */
  dispose(): void {
    if (this.#disposed) return;
    for (const child of this.#children.values()) child.dispose();
    for (const v of this.#params.values()) release(v);
    this.#disposed = true;
  }
}

/** Drops one holder of `v`; the last one frees it. */
function release(v: tf.Variable): void {
  const n = holders.get(v) ?? 1;
  if (n > 1) holders.set(v, n - 1);
  else v.dispose();
}
