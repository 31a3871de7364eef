/** `Symbol.for` key of the marker an error of class `kind` (and of each of its subclasses) carries. */
const marker = (kind: string) => Symbol.for(`rnnkit.error.${kind}`);

/**
 * The base of every error rnnkit throws. Each class has a `kind` (its name); an error carries a
 * `Symbol.for` marker for its class and every base class, so `ShapeError.isInstance(e)` works across
 * two installed copies of rnnkit, where `instanceof` does not.
 * @example
 * ```ts
 * try {
 *   lstm.forward(tf.zeros([2, 5, 3]));
 * } catch (e) {
 *   if (ShapeError.isInstance(e)) console.error(e.message); // LSTM.forward(input): expected last dim ...
 * }
 * ```
 */
export class RnnkitError extends Error {
  /** The class's name, also each error's `name`. */
  static readonly kind: string = 'RnnkitError';

  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.kind;
    // new.target and each base class up to RnnkitError (whose own base is Error)
    for (let c: unknown = new.target; c !== Error; c = Object.getPrototypeOf(c))
      Object.defineProperty(this, marker((c as typeof RnnkitError).kind), { value: true });
  }

  /** True when `e` is an error of this class or a subclass, from any copy of rnnkit. */
  static isInstance(e: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class isInstance is called on
    const kind = this.kind;
    return (
      typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[marker(kind)] === true
    );
  }
}

/** A tensor argument has the wrong rank or size; the message names the argument, the expected and the actual shape. */
export class ShapeError extends RnnkitError {
  /** `'ShapeError'` */
  static override readonly kind = 'ShapeError';
}

/** A module or tensor was used after `dispose()`. */
export class DisposedError extends RnnkitError {
  /** `'DisposedError'` */
  static override readonly kind = 'DisposedError';
}

/** `loadStateDict` found missing, unexpected or mis-shaped keys; the module was left unchanged. */
export class StateDictError extends RnnkitError {
  /** `'StateDictError'` */
  static override readonly kind = 'StateDictError';
  constructor(
    message: string,
    /** The module's keys the state dict lacked. */
    readonly missingKeys: string[],
    /** The state dict's keys the module does not have. */
    readonly unexpectedKeys: string[],
    /** Keys whose tensor has another shape than the module's parameter. */
    readonly shapeMismatches: Array<{
      /** the parameter's key */
      key: string;
      /** the module's shape */
      expected: number[];
      /** the state dict's shape */
      got: number[];
    }>,
  ) {
    super(message);
  }
}

/** A safetensors file is malformed; the message says which part and why. */
export class SafetensorsError extends RnnkitError {
  /** `'SafetensorsError'` */
  static override readonly kind = 'SafetensorsError';
}

/** A backend could not start; the message says which, why, and what to try. */
export class BackendError extends RnnkitError {
  /** `'BackendError'` */
  static override readonly kind = 'BackendError';
}

/** A tensor held NaN or Infinity while `setCheckNumerics(true)` was on. */
export class NumericsError extends RnnkitError {
  /** `'NumericsError'` */
  static override readonly kind = 'NumericsError';
}

/** The WebAssembly kernel failed (a trapped share, workers that could not start, memory limits). */
export class KernelError extends RnnkitError {
  /** `'KernelError'` */
  static override readonly kind = 'KernelError';
}

/**
 * A pickle in a checkpoint names a global outside the allow-list (tensor rebuild functions, storage
 * types, OrderedDict); `global` is its "module.name". Nothing in the file was run.
 */
export class PickleSecurityError extends RnnkitError {
  static override readonly kind = 'PickleSecurityError';
  constructor(
    message: string,
    /** The refused global, as `module.name` (e.g. `"os.system"`). */
    readonly global: string,
  ) {
    super(message);
  }
}

/**
 * A checkpoint or model file is malformed, truncated, or not the kind of file expected (the message
 * says what it is and what was expected), or a model file names an unknown class or newer format.
 */
export class ModelFileError extends RnnkitError {
  static override readonly kind = 'ModelFileError';
}
