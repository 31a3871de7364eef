import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { assertParameterSizes, MAX_MODULE_FLOATS, MAX_PARAMETER_FLOATS } from './sizes.js';

describe('assertParameterSizes', () => {
  it('passes sizes up to the limits and allocates nothing', () => {
    const n = tf.memory().numTensors;
    assertParameterSizes('M', [['w', [MAX_PARAMETER_FLOATS], 'size']], 'size');
    assertParameterSizes(
      'M',
      [
        ['a', [2 ** 29], 'size'],
        ['b', [2 ** 29], 'size'],
      ],
      'layers',
    );
    expect(2 * 2 ** 29).toBe(MAX_MODULE_FLOATS);
    expect(tf.memory().numTensors).toBe(n);
  });

  it('names the option, the parameter, its shape and the limit for one parameter too large', () => {
    expect(() =>
      assertParameterSizes('RNN', [['weight_ih_l0', [2 ** 31, 1], 'hiddenSize']], 'hiddenSize'),
    ).toThrow(
      new RangeError(
        'RNN({ hiddenSize }): weight_ih_l0 would be [2147483648,1] (2147483648 floats, 8 GiB), more than one parameter can hold (536870912 floats, 2 GiB: the WebAssembly kernel packs a weight into its 4 GiB memory); use a smaller hiddenSize',
      ),
    );
  });

  it('names the option for the whole module too large', () => {
    const params: Array<[string, number[], string]> = Array.from({ length: 5 }, (_, i) => [
      `w${i}`,
      [2 ** 28],
      'hiddenSize',
    ]);
    expect(() => assertParameterSizes('GRU', params, 'numLayers')).toThrow(
      /^GRU\(\{ numLayers \}\): the parameters would hold 1342177280 floats \(5 GiB\), more than a module can hold \(1073741824 floats, 4 GiB\); use a smaller numLayers$/,
    );
  });
});
