import { describe, expect, it } from 'vitest';
import { SafetensorsError } from './errors.js';
import { otherFileKind } from './file-kind.js';
import { loadSafetensors } from './safetensors.js';

const bytes = (...v: number[]) => new Uint8Array([...v, ...new Array(32).fill(0)]);
const text = (s: string) => new TextEncoder().encode(s);

describe('files that are not safetensors are named as such', () => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    [
      'torch.save (zip)',
      bytes(0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0),
      /zip archive \(what torch\.save writes/,
    ],
    [
      'legacy torch.save (pickle protocol 2)',
      bytes(0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc),
      /Python pickle/,
    ],
    ['pickle protocol 4', bytes(0x80, 0x04, 0x95, 0x10), /Python pickle/],
    ['gzip', bytes(0x1f, 0x8b, 0x08, 0x00), /gzip file/],
    ['NumPy', bytes(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0), /NumPy \.npy/],
    ['HDF5', bytes(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a), /HDF5/],
    ['ONNX', bytes(0x08, 0x07, 0x12, 0x07, 0x70, 0x79, 0x74, 0x6f), /ONNX model/],
    [
      'text',
      text('{"weight": [1, 2, 3], "bias": [0]}'),
      /text file \(it starts with "\{\\"weight\\": \[1, 2, 3\], \\"b"\)/,
    ],
  ];
  for (const [name, file, kind] of cases) {
    it(`${name}: loadSafetensors says what it looks like`, () => {
      expect(otherFileKind(file)).toMatch(kind);
      let caught: unknown;
      try {
        loadSafetensors(file);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(SafetensorsError);
      const message = (caught as Error).message;
      expect(message).toMatch(/^loadSafetensors: this is not a safetensors file: it looks like /);
      expect(message).toMatch(kind);
      expect(message).not.toMatch(/header length \d+/);
    });
  }

  it('knows nothing of a plain binary start, so the header checks speak', () => {
    const junk = new Uint8Array([0xff, 0xfe, 0xfd, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05]);
    expect(otherFileKind(junk)).toBeNull();
    expect(() => loadSafetensors(junk)).toThrow(/header length \d+ is larger than the 1 bytes/);
  });
});
