/** A tensor argument has the wrong rank or size; the message names the argument, the expected and the actual shape. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** A module or tensor was used after `dispose()`. */
export class DisposedError extends Error {
  override name = 'DisposedError';
}

/** `loadStateDict` found missing, unexpected or mis-shaped keys; the module was left unchanged. */
export class StateDictError extends Error {
  override name = 'StateDictError';
  constructor(
    message: string,
    readonly missingKeys: string[],
    readonly unexpectedKeys: string[],
    readonly shapeMismatches: Array<{ key: string; expected: number[]; got: number[] }>,
  ) {
    super(message);
  }
}

/** A safetensors file is malformed; the message says which part and why. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** A backend could not start; the message says which, why, and what to try. */
export class BackendError extends Error {
  override name = 'BackendError';
}

/** A tensor held NaN or Infinity while `setCheckNumerics(true)` was on. */
export class NumericsError extends Error {
  override name = 'NumericsError';
}
