import { fmtShape } from './guards.js';

/**
 * Most floats one parameter may hold: 2 GiB, since the WebAssembly kernel packs a weight next to a
 * copy of it in its 4 GiB memory.
 */
export const MAX_PARAMETER_FLOATS = 2 ** 29;
/** Most floats all of a module's parameters may hold together: 4 GiB. */
export const MAX_MODULE_FLOATS = 2 ** 30;

const gib = (floats: number) => `${+((floats * 4) / 2 ** 30).toPrecision(3)} GiB`;

/**
 * Checks, before anything is allocated, the parameters a constructor `where` is about to create:
 * each is [key, shape, the option that sets its size]. Throws RangeError naming the option when
 * one parameter would hold more than MAX_PARAMETER_FLOATS, or all of them more than
 * MAX_MODULE_FLOATS (`total`: the option to name then).
 */
export function assertParameterSizes(
  where: string,
  params: Array<[string, number[], string]>,
  total: string,
): void {
  let sum = 0;
  for (const [key, shape, option] of params) {
    const n = shape.reduce((a, b) => a * b, 1);
    sum += n;
    if (n > MAX_PARAMETER_FLOATS) {
      throw new RangeError(
        `${where}({ ${option} }): ${key} would be ${fmtShape(shape)} (${n} floats, ${gib(n)}), more than one parameter can hold (${MAX_PARAMETER_FLOATS} floats, ${gib(MAX_PARAMETER_FLOATS)}: the WebAssembly kernel packs a weight into its 4 GiB memory); use a smaller ${option}`,
      );
    }
  }
  if (sum > MAX_MODULE_FLOATS) {
    throw new RangeError(
      `${where}({ ${total} }): the parameters would hold ${sum} floats (${gib(sum)}), more than a module can hold (${MAX_MODULE_FLOATS} floats, ${gib(MAX_MODULE_FLOATS)}); use a smaller ${total}`,
    );
  }
}
