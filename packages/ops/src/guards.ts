import * as tf from '@tensorflow/tfjs-core';
import { DisposedError, NumericsError, ShapeError } from './errors.js';

/** "[2,10,300]" */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** "a Float32Array", "an Int32Array", "a Uint8Array" (said "you"): a name with its article. */
const an = (name: string) => `${/^[AEIO]/i.test(name) ? 'an' : 'a'} ${name}`;

/** "a string", "a number (3.5)", "an array" ...: how a wrong value is shown in messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (value instanceof tf.Tensor)
    return `a ${value.dtype} tensor of shape ${fmtShape(value.shape)}`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'number') return `${value}`;
  if (typeof value === 'string') return `"${value}"`;
  if (ArrayBuffer.isView(value)) {
    const n = 'length' in value ? `length ${value.length}` : `${value.byteLength} bytes`;
    return `${an(value.constructor.name)} of ${n}`;
  }
  if (value instanceof ArrayBuffer) return `an ArrayBuffer of ${value.byteLength} bytes`;
  if (value instanceof Map) return `a Map of ${value.size} entries`;
  if (value instanceof Set) return `a Set of ${value.size} entries`;
  if (typeof value === 'object') {
    const name = Object.getPrototypeOf(value)?.constructor?.name;
    return name && name !== 'Object' ? an(name) : 'an object';
  }
  return `a ${typeof value}`;
}

/** Throws unless `x` is a live tfjs tensor. */
export function assertTensor(x: unknown, arg: string): asserts x is tf.Tensor {
  if (!(x instanceof tf.Tensor)) {
    throw new TypeError(`${arg}: expected a tf.Tensor, got ${describeValue(x)}`);
  }
  if (x.isDisposed) {
    throw new DisposedError(`${arg}: the tensor (shape ${fmtShape(x.shape)}) was already disposed`);
  }
}

/** Throws ShapeError unless x has one of `ranks`; `layout` describes what is expected, e.g. "[B,T,I] or [T,I]". */
export function assertRank(
  x: unknown,
  arg: string,
  ranks: number[],
  layout: string,
): asserts x is tf.Tensor {
  assertTensor(x, arg);
  if (!ranks.includes(x.rank)) {
    throw new ShapeError(
      `${arg}: expected rank ${ranks.join(' or ')} (${layout}), got rank ${x.rank} with shape ${fmtShape(x.shape)}`,
    );
  }
}

/** Throws ShapeError unless x.shape matches `expected` exactly (`null` = any size). */
export function assertShape(
  x: unknown,
  arg: string,
  expected: ReadonlyArray<number | null>,
): asserts x is tf.Tensor {
  assertTensor(x, arg);
  const ok = x.rank === expected.length && expected.every((e, i) => e === null || e === x.shape[i]);
  if (!ok) {
    const want = `[${expected.map((e) => (e === null ? '*' : e)).join(',')}]`;
    throw new ShapeError(`${arg}: expected shape ${want}, got ${fmtShape(x.shape)}`);
  }
}

/** Throws unless x has a float dtype. */
export function assertFloat(x: tf.Tensor, arg: string): void {
  if (x.dtype !== 'float32') {
    throw new TypeError(
      `${arg}: expected a float32 tensor, got a ${x.dtype} tensor of shape ${fmtShape(x.shape)}`,
    );
  }
}

/**
 * Throws unless `s` is a live float32 tensor of shape `expected` (`null` = any size): a recurrent
 * state (h0, c0), which PyTorch also takes only in the input's floating dtype.
 */
export function assertState(
  s: unknown,
  arg: string,
  expected: ReadonlyArray<number | null>,
): asserts s is tf.Tensor {
  assertShape(s, arg, expected);
  assertFloat(s, arg);
}

/** Throws RangeError unless value is an integer >= min (default 1). */
export function assertInt(value: unknown, arg: string, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    const what = min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    throw new RangeError(`${arg}: expected ${what}, got ${describeValue(value)}`);
  }
  return value;
}

/** Throws RangeError unless 0 <= value <= 1 (as PyTorch's dropout: 1 zeroes everything). */
export function assertProbability(value: unknown, arg: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new RangeError(`${arg}: expected a probability in [0, 1], got ${describeValue(value)}`);
  }
  return value;
}

/** Throws TypeError unless value is one of `choices`. */
export function assertOneOf<T extends string>(
  value: unknown,
  arg: string,
  choices: readonly T[],
): T {
  if (typeof value !== 'string' || !choices.includes(value as T)) {
    throw new TypeError(
      `${arg}: expected one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describeValue(value)}`,
    );
  }
  return value as T;
}

/** Throws TypeError unless value is a boolean. */
export function assertBool(value: unknown, arg: string): boolean {
  if (typeof value !== 'boolean') {
    throw new TypeError(`${arg}: expected true or false, got ${describeValue(value)}`);
  }
  return value;
}

function toCamel(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Rejects option names that `where` does not know (a typo like `batch_first` must not be ignored),
 * suggesting the camelCase name when there is one.
 */
export function checkOptions(opts: unknown, where: string, known: readonly string[]): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`${where}: expected an options object, got ${describeValue(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (known.includes(key)) continue;
    const camel = toCamel(key);
    const hint = known.includes(camel) ? ` (did you mean "${camel}"?)` : '';
    throw new TypeError(
      `${where}: unknown option "${key}"${hint}; expected one of ${known.map((k) => `"${k}"`).join(', ')}`,
    );
  }
}

let checkNumerics = false;

/**
 * Turns on a debug mode in which every forward checks its inputs (states included), parameters and
 * outputs for NaN/Infinity.
 */
export function setCheckNumerics(on: boolean): void {
  checkNumerics = assertBool(on, 'setCheckNumerics(on)');
}

/** True while `setCheckNumerics(true)` is on. */
export function numericsChecked(): boolean {
  return checkNumerics;
}

/** In check-numerics mode, throws NumericsError naming the first tensor that holds NaN or Infinity. */
export function assertFinite(tensors: Array<[string, tf.Tensor]>): void {
  if (!checkNumerics) return;
  for (const [name, t] of tensors) {
    if (t.dtype !== 'float32') continue;
    const data = t.dataSync() as Float32Array;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new NumericsError(
          `${name}: expected finite values, got ${data[i]} at flat index ${i} of a tensor of shape ${fmtShape(t.shape)}`,
        );
      }
    }
  }
}

/**
 * In check-numerics mode, checks a forward's outputs as `assertFinite` does; on NaN or Infinity
 * disposes them all (the caller never gets them) before throwing. Returns `out`.
 */
export function finiteOutputs<T>(out: T, named: Array<[string, tf.Tensor]>): T {
  if (!checkNumerics) return out;
  try {
    assertFinite(named);
  } catch (e) {
    tf.dispose(named.map(([, t]) => t));
    throw e;
  }
  return out;
}

/**
 * Checks sequence lengths: one integer in [1, T] per sequence of a batch of B (an array, a typed
 * array or a live tensor). Returns them as numbers, or null when absent.
 */
export function checkLengths(lengths: unknown, arg: string, B: number, T: number): number[] | null {
  if (lengths === undefined) return null;
  if (lengths instanceof tf.Tensor) {
    assertTensor(lengths, arg);
    if (lengths.rank !== 1 || lengths.dtype === 'bool' || lengths.dtype === 'complex64') {
      throw new TypeError(
        `${arg}: expected ${B} lengths (a 1-D int32 or float32 tensor, or an array), got ${describeValue(lengths)}`,
      );
    }
  }
  const arr = lengths instanceof tf.Tensor ? Array.from(lengths.dataSync()) : lengths;
  if (!Array.isArray(arr) && !ArrayBuffer.isView(arr)) {
    throw new TypeError(`${arg}: expected an array of ${B} lengths, got ${describeValue(lengths)}`);
  }
  const list = Array.from(arr as ArrayLike<number>);
  if (list.length !== B) {
    throw new ShapeError(`${arg}: expected ${B} lengths (one per sequence), got ${list.length}`);
  }
  list.forEach((n, i) => {
    if (!Number.isInteger(n) || n < 1 || n > T) {
      throw new RangeError(
        `${arg}: expected integers in [1, ${T}] (the sequence length), got ${describeValue(n)} at index ${i}`,
      );
    }
  });
  return list;
}

/**
 * Checks an LSTM state argument: undefined or a pair of tensors [h, c] (`expected` names them in the
 * message, e.g. "[h0, c0]").
 */
export function assertStatePair(
  state: unknown,
  arg: string,
  expected: string,
): asserts state is [unknown, unknown] | undefined {
  if (state === undefined) return;
  if (!Array.isArray(state) || state.length !== 2 || !state[0] || !state[1]) {
    throw new TypeError(
      `${arg}: expected ${expected} (two tensors), got ${Array.isArray(state) ? `[${state.map(describeValue).join(', ')}]` : describeValue(state)}`,
    );
  }
}

/**
 * Where the nested array `a` (called `name` in the message) is not rectangular, as "ids[1] has
 * length 1 where ids[0] has length 2" or "ids[1] is a number where ids[0] is an array"; null when
 * it is. The shape expected is the one of a, a[0], a[0][0]...
 */
export function raggedAt(a: unknown[], name: string): string | null {
  const shape: number[] = [];
  for (let v: unknown = a; Array.isArray(v); v = v[0]) shape.push(v.length);
  const check = (v: unknown, depth: number, path: string): string | null => {
    const want = path.replace(/\[\d+\]/g, '[0]');
    if (depth === shape.length) {
      return Array.isArray(v) ? `${path} is an array where ${want} is a number` : null;
    }
    if (!Array.isArray(v)) return `${path} is a number where ${want} is an array`;
    if (v.length !== shape[depth])
      return `${path} has length ${v.length} where ${want} has length ${shape[depth]}`;
    for (let i = 0; i < v.length; i++) {
      const r = check(v[i], depth + 1, `${path}[${i}]`);
      if (r) return r;
    }
    return null;
  };
  return check(a, 0, name);
}
